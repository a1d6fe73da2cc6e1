/**
 * The Llama 3.1 JSON tool convention: the system-message text for two
 * tools (written out here from Meta's documented format: the instruction,
 * then each tool as JSON indented by 4 followed by a blank line), and raw
 * outputs read back, whole and streamed with the output cut at every
 * position.
 */
import { describe, expect, it } from "vitest";
import { llama3Json } from "../../src/prompt-formats/tools/llama3-json.js";
import { getToolConvention } from "../../src/prompt-formats/tools/registry.js";
import { isParsedCall, type ToolStreamOutput } from "../../src/prompt-formats/tools/types.js";
import { TWO_TOOLS } from "./helpers/tools.js";

const WEATHER = [
  "{",
  '    "type": "function",',
  '    "function": {',
  '        "name": "get_weather",',
  '        "description": "Current weather in a city",',
  '        "parameters": {',
  '            "type": "object",',
  '            "properties": {',
  '                "city": {',
  '                    "type": "string",',
  '                    "description": "City name, e.g. Zürich"',
  "                }",
  "            },",
  '            "required": [',
  '                "city"',
  "            ]",
  "        }",
  "    }",
  "}",
].join("\n");
const TIME = [
  "{",
  '    "type": "function",',
  '    "function": {',
  '        "name": "get_time",',
  '        "description": "Local time in a timezone",',
  '        "parameters": {',
  '            "type": "object",',
  '            "properties": {',
  '                "timezone": {',
  '                    "type": "string"',
  "                }",
  "            },",
  '            "required": [',
  '                "timezone"',
  "            ]",
  "        }",
  "    }",
  "}",
].join("\n");
const INSTRUCTION =
  "You have access to the following functions. To call a function, please respond with JSON for a function call." +
  'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' +
  "Do not use variables.\n\n";

describe("llama3-json: tools into the prompt", () => {
  it("renders the instruction, then each tool indented by 4 and a blank line; it goes before the system text", () => {
    expect(getToolConvention("llama3-json")).toBe(llama3Json);
    expect(llama3Json.placement).toBe("before");
    expect(llama3Json.renderTools(TWO_TOOLS, "auto")).toBe(`${INSTRUCTION}${WEATHER}\n\n${TIME}\n\n`);
    expect(llama3Json.renderTools(TWO_TOOLS, "none")).toBeNull();
    expect(llama3Json.renderTools(TWO_TOOLS, { type: "function", function: { name: "get_time" } })).toBe(
      `${INSTRUCTION}${TIME}\n\nYou must call the function "get_time".\n\n`,
    );
  });

  it("writes an earlier call as the model answers it", () => {
    expect(llama3Json.renderCall({ name: "get_time", arguments: '{"timezone":"UTC"}' })).toBe(
      '{"name": "get_time", "parameters": {"timezone":"UTC"}}',
    );
  });
});

const CALL = '{"name": "get_weather", "parameters": {"city": "Paris"}}';
const CASES = [
  { label: "a call", output: CALL, content: "", calls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }] },
  {
    label: "a call after <|python_tag|> and whitespace",
    output: `\n<|python_tag|>${CALL}`,
    content: "",
    calls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }],
  },
  { label: "plain text", output: "Paris is sunny {mostly}.", content: "Paris is sunny {mostly}.", calls: [] },
  {
    label: "text starting like the tag",
    output: "<|python is a language",
    content: "<|python is a language",
    calls: [],
  },
  {
    label: "malformed JSON",
    output: '{"name": "get_weather", "parameters": {',
    content: '{"name": "get_weather", "parameters": {',
    calls: [],
  },
];

function streamed(pieces: readonly string[]): { content: string; calls: { name: string; arguments: string }[] } {
  const parser = llama3Json.createStreamParser();
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
  return { content, calls };
}

describe("llama3-json: a call out of the text", () => {
  it.each(CASES)("parses $label, whole and cut at every position", ({ output, content, calls }) => {
    const whole = llama3Json.parse(output);
    expect(whole.content).toBe(content);
    expect(whole.calls.map(({ name, arguments: args }) => ({ name, arguments: args }))).toEqual(calls);
    for (let cut = 0; cut <= output.length; cut++)
      expect(streamed([output.slice(0, cut), output.slice(cut)]), `cut at ${cut}`).toEqual({ content, calls });
  });

  it("streams ordinary text as it arrives", () => {
    const parser = llama3Json.createStreamParser();
    expect(parser.push(" ")).toEqual({});
    expect(parser.push("It is")).toEqual({ content: " It is" });
    expect(parser.push(" sunny")).toEqual({ content: " sunny" });
    expect(parser.end()).toEqual({});
  });
});
