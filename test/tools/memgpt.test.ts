/**
 * MemGPT's JSON convention on the `airoboros` and `dolphin` formats: the
 * function list (written out here from MemGPT's airoboros/dolphin wrappers:
 * instruction, `Available functions:`, per function its description and
 * params led by `inner_thoughts`) in the system turn of the canonical aider
 * request, and a table of raw outputs read back, whole and streamed with the
 * output cut at every position (`inner_thoughts` → content).
 */
import { describe, expect, it } from "vitest";
import type { ChatCompletionRequest } from "../../src/protocol/chat-request.js";
import { getPromptFormat } from "../../src/prompt-formats/registry.js";
import { memgpt } from "../../src/prompt-formats/tools/memgpt.js";
import { getToolConvention } from "../../src/prompt-formats/tools/registry.js";
import { isParsedCall, type ToolStreamOutput } from "../../src/prompt-formats/tools/types.js";
import { planTools } from "../../src/providers/raw/tool-calls.js";
import { aiderRequest } from "../helpers/fixtures.js";
import { TWO_TOOLS } from "./helpers/tools.js";

const INSTRUCTION =
  "Please select the most suitable function and parameters from the list of available functions below, " +
  "based on the ongoing conversation. Provide your response in JSON format.\nAvailable functions:";
const WEATHER =
  "get_weather:\n  description: Current weather in a city\n  params:\n" +
  "    inner_thoughts: Deep inner monologue private to you only.\n    city: City name, e.g. Zürich";
const TIME =
  "get_time:\n  description: Local time in a timezone\n  params:\n" +
  '    inner_thoughts: Deep inner monologue private to you only.\n    timezone: "string"';
const TOOLS_TEXT = `${INSTRUCTION}\n${WEATHER}\n${TIME}`;

function aiderWithTools(): { body: ChatCompletionRequest; system: string; rest: { role: string; content: string }[] } {
  const aider = aiderRequest();
  const [system, ...rest] = aider.messages;
  return { body: { ...aider, tools: TWO_TOOLS }, system: system!.content, rest };
}

describe("memgpt: tools into the prompt", () => {
  it("is the convention of airoboros and dolphin", () => {
    expect(getToolConvention("memgpt")).toBe(memgpt);
    expect(getPromptFormat("airoboros")!.toolConvention).toBe("memgpt");
    expect(getPromptFormat("dolphin")!.toolConvention).toBe("memgpt");
  });

  it("renders the function list; none renders nothing; a named function renders only it and says so", () => {
    expect(memgpt.renderTools(TWO_TOOLS, "auto")).toBe(TOOLS_TEXT);
    expect(memgpt.renderTools(TWO_TOOLS, "none")).toBeNull();
    expect(memgpt.renderTools(TWO_TOOLS, "required")).toBe(`${TOOLS_TEXT}\nYou must call at least one function.`);
    expect(memgpt.renderTools(TWO_TOOLS, { type: "function", function: { name: "get_time" } })).toBe(
      `${INSTRUCTION}\n${TIME}\nYou must call the function "get_time".`,
    );
  });

  it("dolphin: the aider request with two tools, the list after the system text in the ChatML system turn", () => {
    const { body, system, rest } = aiderWithTools();
    const dolphin = getPromptFormat("dolphin")!;
    const plan = planTools(dolphin, body);
    expect(plan.reading?.convention.name).toBe("memgpt");
    expect(dolphin.render(plan.messages)).toBe(
      `<|im_start|>system\n${system}\n\n${TOOLS_TEXT}<|im_end|>\n` +
        rest.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join("") +
        "<|im_start|>assistant\n",
    );
  });

  it("airoboros: the aider request with two tools, USER:/ASSISTANT: turns after the system text and the list", () => {
    const { body, system, rest } = aiderWithTools();
    const airoboros = getPromptFormat("airoboros")!;
    expect(airoboros.render(planTools(airoboros, body).messages)).toBe(
      `${system}\n\n${TOOLS_TEXT}\n` +
        rest.map((m) => `${m.role === "user" ? "USER: " : "ASSISTANT: "}${m.content}\n`).join("") +
        "ASSISTANT:",
    );
  });

  it("writes an earlier call as {function, params} and a result as FUNCTION RETURN", () => {
    expect(memgpt.renderCall({ name: "get_time", arguments: '{"timezone":"UTC"}' })).toBe(
      '{"function":"get_time","params":{"timezone":"UTC"}}',
    );
    expect(memgpt.renderResults(['{"status": "OK"}'])).toBe('FUNCTION RETURN: {"status": "OK"}');
  });
});

const CALL =
  '{"function": "get_weather", "params": {"inner_thoughts": "The user wants Paris weather.", "city": "Paris"}}';
const CASES: { label: string; output: string; content: string; calls: { name: string; arguments: string }[] }[] = [
  {
    label: "a call with inner thoughts",
    output: CALL,
    content: "The user wants Paris weather.",
    calls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }],
  },
  {
    label: "a call without inner thoughts, after whitespace",
    output: '\n {"function": "get_time", "params": {"timezone": "Asia/Tokyo"}}',
    content: "",
    calls: [{ name: "get_time", arguments: '{"timezone":"Asia/Tokyo"}' }],
  },
  {
    label: "a call without params",
    output: '{"function": "get_time"}',
    content: "",
    calls: [{ name: "get_time", arguments: "{}" }],
  },
  { label: "plain text", output: "It is sunny {mostly}.", content: "It is sunny {mostly}.", calls: [] },
  {
    label: "malformed JSON",
    output: '{"function": "get_weather", "params": {"city": ',
    content: '{"function": "get_weather", "params": {"city": ',
    calls: [],
  },
  {
    label: "no function name (Hermes' shape)",
    output: '{"name": "get_weather", "arguments": {"city": "Paris"}}',
    content: '{"name": "get_weather", "arguments": {"city": "Paris"}}',
    calls: [],
  },
  {
    label: "params that are not an object",
    output: '{"function": "get_time", "params": [1]}',
    content: '{"function": "get_time", "params": [1]}',
    calls: [],
  },
];

function streamed(pieces: readonly string[]): { content: string; calls: { name: string; arguments: string }[] } {
  const parser = memgpt.createStreamParser();
  const outputs: ToolStreamOutput[] = [...pieces.map((piece) => parser.push(piece)), parser.end()];
  let content = "";
  const calls: { name: string; arguments: string }[] = [];
  for (const out of outputs) {
    for (const block of out.calls ?? []) {
      if (isParsedCall(block)) calls.push({ name: block.name, arguments: block.arguments });
      else content += block.text;
    }
    content += out.content ?? "";
  }
  return { content, calls };
}

describe("memgpt: a call out of the text", () => {
  it.each(CASES)("parses $label, whole and cut at every position", ({ output, content, calls }) => {
    const whole = memgpt.parse(output);
    expect(whole.content).toBe(content);
    expect(whole.calls.map(({ name, arguments: args }) => ({ name, arguments: args }))).toEqual(calls);
    if (calls.length === 0 && output.trimStart().startsWith("{")) expect(whole.problem).toBeDefined();
    for (let cut = 0; cut <= output.length; cut++)
      expect(streamed([output.slice(0, cut), output.slice(cut)]), `cut at ${cut}`).toEqual({ content, calls });
    expect(streamed([...output]), "one character per piece").toEqual({ content, calls });
  });

  it("streams ordinary text as it arrives", () => {
    const parser = memgpt.createStreamParser();
    expect(parser.push(" ")).toEqual({});
    expect(parser.push("It is")).toEqual({ content: " It is" });
    expect(parser.push(" sunny")).toEqual({ content: " sunny" });
    expect(parser.end()).toEqual({});
  });
});
