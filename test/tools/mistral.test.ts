/**
 * Mistral's v3 tool convention on `mistral-instruct`: the canonical aider
 * request with two tools (the `[AVAILABLE_TOOLS]` block, written out here
 * from Mistral's v3 format, before the last user message's `[INST]`), the
 * history's calls and results, and a table of raw outputs read back, whole
 * and streamed with the output cut at every position.
 */
import { describe, expect, it } from "vitest";
import type { ChatCompletionRequest } from "../../src/protocol/chat-request.js";
import { getPromptFormat } from "../../src/prompt-formats/registry.js";
import { mistral } from "../../src/prompt-formats/tools/mistral.js";
import { getToolConvention } from "../../src/prompt-formats/tools/registry.js";
import { isParsedCall, type ToolStreamOutput } from "../../src/prompt-formats/tools/types.js";
import { planTools } from "../../src/providers/raw/tool-calls.js";
import { aiderRequest } from "../helpers/fixtures.js";
import { TWO_TOOLS } from "./helpers/tools.js";

const WEATHER_JSON =
  '{"type":"function","function":{"name":"get_weather","description":"Current weather in a city",' +
  '"parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name, e.g. Zürich"}},"required":["city"]}}}';
const TIME_JSON =
  '{"type":"function","function":{"name":"get_time","description":"Local time in a timezone",' +
  '"parameters":{"type":"object","properties":{"timezone":{"type":"string"}},"required":["timezone"]}}}';
const TOOLS_BLOCK = `[AVAILABLE_TOOLS] [${WEATHER_JSON},${TIME_JSON}][/AVAILABLE_TOOLS]`;

const format = getPromptFormat("mistral-instruct")!;

describe("mistral: tools into the prompt", () => {
  it("is the convention of mistral-instruct", () => {
    expect(getToolConvention("mistral")).toBe(mistral);
    expect(format.toolConvention).toBe("mistral");
  });

  it("renders the tools as one JSON array in [AVAILABLE_TOOLS]; none renders nothing; a named function only it", () => {
    expect(mistral.renderTools(TWO_TOOLS, "auto")).toBe(TOOLS_BLOCK);
    expect(mistral.renderTools(TWO_TOOLS, "none")).toBeNull();
    expect(mistral.renderTools(TWO_TOOLS, { type: "function", function: { name: "get_time" } })).toBe(
      `[AVAILABLE_TOOLS] [${TIME_JSON}][/AVAILABLE_TOOLS]You must call the function "get_time".`,
    );
  });

  it("the aider request with two tools: the block right before the last [INST], the system text in the first", () => {
    const aider = aiderRequest();
    const body = { ...aider, tools: TWO_TOOLS } as unknown as ChatCompletionRequest;
    const plan = planTools(format, body);
    expect(plan.reading?.convention.name).toBe("mistral");
    const [system, ...rest] = aider.messages;
    const last = rest.length - 1;
    const expected =
      "<s>" +
      rest
        .map((m, i) => {
          if (m.role === "assistant") return ` ${m.content}</s>`;
          const text = i === 0 ? `${system!.content}\n\n${m.content}` : m.content;
          return `${i === last ? TOOLS_BLOCK : ""} [INST] ${text} [/INST]`;
        })
        .join("");
    expect(format.render(plan.messages)).toBe(expected);
  });

  it("writes a message's calls as one [TOOL_CALLS] array and each result as a [TOOL_RESULTS] turn", () => {
    const rendered = format.render(
      [
        { role: "user", content: "Weather in Paris and Rome?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "a", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
            { id: "b", type: "function", function: { name: "get_weather", arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: "tool", tool_call_id: "a", content: '{"temperature": 18}' },
        { role: "tool", tool_call_id: "b", content: "24 C" },
      ],
      { bos: false },
    );
    expect(rendered).toBe(
      " [INST] Weather in Paris and Rome? [/INST]" +
        ' [TOOL_CALLS] [{"name":"get_weather","arguments":{"city":"Paris"}},{"name":"get_weather","arguments":{"city":"Rome"}}]</s>' +
        '[TOOL_RESULTS] {"content":{"temperature":18}}[/TOOL_RESULTS]' +
        '[TOOL_RESULTS] {"content":"24 C"}[/TOOL_RESULTS]',
    );
  });
});

const TWO =
  '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {"timezone": "Asia/Tokyo"}}]';
const CASES: { label: string; output: string; content: string; calls: { name: string; arguments: string }[] }[] = [
  { label: "plain text", output: "It is sunny [mostly].", content: "It is sunny [mostly].", calls: [] },
  {
    label: "text that starts like the marker",
    output: "[TOOL_ is not a call [TOOL",
    content: "[TOOL_ is not a call [TOOL",
    calls: [],
  },
  {
    label: "one call",
    output: '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}]',
    content: "",
    calls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }],
  },
  {
    label: "two calls",
    output: TWO,
    content: "",
    calls: [
      { name: "get_weather", arguments: '{"city":"Paris"}' },
      { name: "get_time", arguments: '{"timezone":"Asia/Tokyo"}' },
    ],
  },
  {
    label: "text then calls",
    output: `Let me check. ${TWO}`,
    content: "Let me check.",
    calls: [
      { name: "get_weather", arguments: '{"city":"Paris"}' },
      { name: "get_time", arguments: '{"timezone":"Asia/Tokyo"}' },
    ],
  },
  {
    label: "malformed JSON",
    output: 'Checking. [TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": ]',
    content: 'Checking. [TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": ]',
    calls: [],
  },
  {
    label: "a list with one call that has no name",
    output: '[TOOL_CALLS] [{"name": "get_time", "arguments": {}}, {"arguments": {}}]',
    content: '[TOOL_CALLS] [{"name": "get_time", "arguments": {}}, {"arguments": {}}]',
    calls: [],
  },
];

function streamed(pieces: readonly string[]): { content: string; calls: { name: string; arguments: string }[] } {
  const parser = mistral.createStreamParser();
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

describe("mistral: calls out of the text", () => {
  it.each(CASES)("parses $label, whole and cut at every position", ({ output, content, calls }) => {
    const whole = mistral.parse(output);
    expect(whole.content).toBe(content);
    expect(whole.calls.map(({ name, arguments: args }) => ({ name, arguments: args }))).toEqual(calls);
    for (let cut = 0; cut <= output.length; cut++)
      expect(streamed([output.slice(0, cut), output.slice(cut)]), `cut at ${cut}`).toEqual({ content, calls });
    expect(streamed([...output]), "one character per piece").toEqual({ content, calls });
  });

  it("streams text as it arrives, holding back only what could start the marker", () => {
    const parser = mistral.createStreamParser();
    expect(parser.push("Let me")).toEqual({ content: "Let me" });
    expect(parser.push(" check. [TOOL")).toEqual({ content: " check." });
    expect(parser.push('_CALLS] [{"name": "get_time"')).toEqual({});
    expect(parser.end().calls).toHaveLength(1);
  });
});
