/**
 * The Hermes / Qwen 2.5 tool convention: the `<tools>` block for a request
 * with two tools (written out here from Qwen's documented format), and a
 * table of raw model outputs read back into calls and text, whole and
 * streamed with the output cut at every position.
 */
import { describe, expect, it } from "vitest";
import { hermes } from "../../src/prompt-formats/tools/hermes.js";
import type { ToolStreamOutput } from "../../src/prompt-formats/tools/types.js";
import { isParsedCall } from "../../src/prompt-formats/tools/types.js";
import { RelayError } from "../../src/protocol/errors.js";
import { TWO_TOOLS, TWO_TOOLS_HERMES } from "./helpers/tools.js";

/** The parts of {@link TWO_TOOLS_HERMES} around the signatures. */
const HEADER = TWO_TOOLS_HERMES.slice(0, TWO_TOOLS_HERMES.indexOf("<tools>\n") + "<tools>\n".length);
const FOOTER = TWO_TOOLS_HERMES.slice(TWO_TOOLS_HERMES.indexOf("\n</tools>"));
const [WEATHER_SIGNATURE, TIME_SIGNATURE] = TWO_TOOLS_HERMES.slice(HEADER.length, -FOOTER.length).split("\n") as [
  string,
  string,
];

describe("hermes: tools into the prompt", () => {
  it("renders two tools as one JSON signature per line inside <tools>, then the answer format", () => {
    expect(hermes.renderTools(TWO_TOOLS, undefined)).toBe(TWO_TOOLS_HERMES);
    expect(WEATHER_SIGNATURE).toContain('"name": "get_weather"');
    expect(TIME_SIGNATURE).toContain('"name": "get_time"');
    expect(hermes.renderTools(TWO_TOOLS, "auto")).toBe(`${HEADER}${WEATHER_SIGNATURE}\n${TIME_SIGNATURE}${FOOTER}`);
  });

  it("tool_choice none renders nothing; required adds that a call is required; a named function renders only it", () => {
    expect(hermes.renderTools(TWO_TOOLS, "none")).toBeNull();
    expect(hermes.renderTools([], "auto")).toBeNull();
    expect(hermes.renderTools(TWO_TOOLS, "required")).toBe(
      `${HEADER}${WEATHER_SIGNATURE}\n${TIME_SIGNATURE}${FOOTER}\n\nYou must call at least one function.`,
    );
    expect(hermes.renderTools(TWO_TOOLS, { type: "function", function: { name: "get_time" } })).toBe(
      `${HEADER}${TIME_SIGNATURE}${FOOTER}\n\nYou must call the function "get_time".`,
    );
  });

  it("a named function that is not among the tools is a 400 on tool_choice", () => {
    let caught: unknown;
    try {
      hermes.renderTools(TWO_TOOLS, { type: "function", function: { name: "get_stock" } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RelayError);
    expect((caught as RelayError).status).toBe(400);
    expect((caught as RelayError).param).toBe("tool_choice");
  });

  it("writes an earlier call and tool results the way the model answers and reads them", () => {
    expect(hermes.renderCall({ name: "get_weather", arguments: '{"city":"Paris"}' })).toBe(
      '<tool_call>\n{"name":"get_weather","arguments":{"city":"Paris"}}\n</tool_call>',
    );
    expect(hermes.renderResults(["18 C", "24 C"])).toBe(
      "<tool_response>\n18 C\n</tool_response>\n<tool_response>\n24 C\n</tool_response>",
    );
  });
});

const PARIS = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
const TOKYO = '<tool_call>\n{"name": "get_time", "arguments": {"timezone": "Asia/Tokyo"}}\n</tool_call>';
const BROKEN = '<tool_call>\n{"name": "get_weather", "arguments": {"city": }\n</tool_call>';

interface Case {
  label: string;
  output: string;
  content: string;
  calls: { name: string; arguments: string }[];
  problem?: RegExp;
}

const CASES: Case[] = [
  { label: "plain text", output: "It is sunny in Paris.", content: "It is sunny in Paris.", calls: [] },
  {
    label: "text that mentions tags but makes no call",
    output: "Use <tools> and <tool_response> wisely. <tool_",
    content: "Use <tools> and <tool_response> wisely. <tool_",
    calls: [],
  },
  { label: "one call", output: PARIS, content: "", calls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }] },
  {
    label: "two calls",
    output: `${PARIS}\n${TOKYO}`,
    content: "",
    calls: [
      { name: "get_weather", arguments: '{"city":"Paris"}' },
      { name: "get_time", arguments: '{"timezone":"Asia/Tokyo"}' },
    ],
  },
  {
    label: "text then a call",
    output: `Let me check the weather.\n${PARIS}`,
    content: "Let me check the weather.",
    calls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }],
  },
  {
    label: "a call, then text",
    output: `${PARIS}\nOne moment.`,
    content: "One moment.",
    calls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }],
  },
  {
    label: "an unclosed last call (the model stopped after its JSON)",
    output: '<tool_call>\n{"name": "get_time", "arguments": {"timezone": "UTC"}}\n',
    content: "",
    calls: [{ name: "get_time", arguments: '{"timezone":"UTC"}' }],
  },
  {
    label: "arguments written as a JSON string",
    output: '<tool_call>\n{"name": "get_time", "arguments": "{\\"timezone\\": \\"UTC\\"}"}\n</tool_call>',
    content: "",
    calls: [{ name: "get_time", arguments: '{"timezone":"UTC"}' }],
  },
  {
    label: "malformed JSON",
    output: `Checking.\n${BROKEN}`,
    content: `Checking.\n${BROKEN}`,
    calls: [],
    problem: /not JSON/,
  },
  {
    label: "arguments that are not an object",
    output: '<tool_call>\n{"name": "get_time", "arguments": [1]}\n</tool_call>',
    content: '<tool_call>\n{"name": "get_time", "arguments": [1]}\n</tool_call>',
    calls: [],
    problem: /not a JSON object/,
  },
  {
    label: "non-ASCII text before a call",
    output: `Météo à Zürich 🌦️ :\n${PARIS}`,
    content: "Météo à Zürich 🌦️ :",
    calls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }],
  },
];

/** Content and readable calls of a stream parser fed `pieces`, then ended. */
function streamed(pieces: readonly string[]): { content: string; calls: { name: string; arguments: string }[] } {
  const parser = hermes.createStreamParser();
  const outputs: ToolStreamOutput[] = [...pieces.map((piece) => parser.push(piece)), parser.end()];
  let content = "";
  const calls: { name: string; arguments: string }[] = [];
  for (const out of outputs) {
    content += out.content ?? "";
    for (const block of out.calls ?? []) {
      if (isParsedCall(block)) calls.push({ name: block.name, arguments: block.arguments });
      else content += block.text;
    }
  }
  return { content: calls.length > 0 ? content.trim() : content, calls };
}

describe("hermes: calls out of the text", () => {
  it.each(CASES)("parses $label", ({ output, content, calls, problem }) => {
    const result = hermes.parse(output);
    expect(result.content).toBe(content);
    expect(result.calls.map(({ name, arguments: args }) => ({ name, arguments: args }))).toEqual(calls);
    if (problem) expect(result.problem).toMatch(problem);
    else expect(result.problem).toBeUndefined();
  });

  it.each(CASES)("streamed in two pieces cut at every position: $label", ({ output, content, calls }) => {
    for (let cut = 0; cut <= output.length; cut++) {
      expect(streamed([output.slice(0, cut), output.slice(cut)]), `cut at ${cut}`).toEqual({ content, calls });
    }
    expect(streamed([...output]), "one character per piece").toEqual({ content, calls });
  });

  it("streams text as it arrives until the marker, and hands out each call once its closing tag arrives", () => {
    const parser = hermes.createStreamParser();
    expect(parser.push("Let me")).toEqual({ content: "Let me" });
    // Trailing whitespace waits: it is dropped when a call follows.
    expect(parser.push(" check.\n")).toEqual({ content: " check." });
    // What could be the start of the marker waits too.
    expect(parser.push("<tool")).toEqual({});
    expect(parser.push('_call>\n{"name": "get_weather", ')).toEqual({});
    const first = parser.push('"arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n{"name"');
    expect(first.content).toBeUndefined();
    expect(first.calls).toEqual([
      {
        name: "get_weather",
        arguments: '{"city":"Paris"}',
        text: '\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
      },
    ]);
    const second = parser.push(': "get_time", "arguments": {"timezone": "UTC"}}\n</tool_call>');
    expect(second.calls).toHaveLength(1);
    expect(second.calls![0]).toMatchObject({ name: "get_time", arguments: '{"timezone":"UTC"}' });
    expect(parser.end()).toEqual({});
  });

  it("a stream without a call gives back every character, held-back whitespace included", () => {
    const parser = hermes.createStreamParser();
    const out = [parser.push("Hello \n"), parser.push("<to"), parser.push("day>  "), parser.end()];
    expect(out.map((piece) => piece.content ?? "").join("")).toBe("Hello \n<today>  ");
  });
});
