/**
 * Llama 3.1 JSON tool calling on the `llama3` format, as Meta's Llama 3.1
 * prompt-format documentation shows it
 * (https://www.llama.com/docs/model-cards-and-prompt-formats/llama3_1/):
 * the canonical aider request with two tools renders the functions at the
 * start of the system message, and a history with a call and its result
 * renders the call as `{"name": …, "parameters": …}` in the assistant turn
 * and the result in an `ipython` turn.
 */
import { describe, expect, it } from "vitest";
import type { ChatCompletionRequest } from "../../src/protocol/chat-request.js";
import { getPromptFormat } from "../../src/prompt-formats/registry.js";
import { planTools } from "../../src/providers/raw/tool-calls.js";
import { aiderRequest } from "../helpers/fixtures.js";
import { TWO_TOOLS } from "./helpers/tools.js";

const llama3 = getPromptFormat("llama3")!;

/** The two tools as Meta's format writes them: the instruction, then each tool as JSON indented by 4 and a blank line. */
const TOOLS_TEXT =
  "You have access to the following functions. To call a function, please respond with JSON for a function call." +
  'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' +
  "Do not use variables.\n\n" +
  `${JSON.stringify(TWO_TOOLS[0], null, 4)}\n\n${JSON.stringify(TWO_TOOLS[1], null, 4)}\n\n`;

const turn = (role: string, text: string) => `<|start_header_id|>${role}<|end_header_id|>\n\n${text.trim()}<|eot_id|>`;

describe("llama3 with tools", () => {
  it("is attached to the llama3-json convention", () => {
    expect(llama3.toolConvention).toBe("llama3-json");
  });

  it("renders the aider request with two tools: the functions before the system text, then the turns", () => {
    const aider = aiderRequest();
    const body = { ...aider, tools: TWO_TOOLS } as unknown as ChatCompletionRequest;
    const plan = planTools(llama3, body);
    expect(plan.reading?.convention.name).toBe("llama3-json");
    const [system, ...rest] = aider.messages;
    expect(system!.role).toBe("system");
    expect(llama3.render(plan.messages)).toBe(
      "<|begin_of_text|>" +
        turn("system", TOOLS_TEXT + system!.content) +
        rest.map((message) => turn(message.role, message.content)).join("") +
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    );
  });

  it("writes an earlier call in the assistant turn and each result in an ipython turn", () => {
    const rendered = llama3.render([
      { role: "user", content: "Weather in Paris and Rome?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city": "Paris"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"output": "18 C, cloudy"}' },
      { role: "tool", tool_call_id: "call_1", content: "24 C" },
    ]);
    expect(rendered).toBe(
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWeather in Paris and Rome?<|eot_id|>" +
        '<|start_header_id|>assistant<|end_header_id|>\n\n{"name": "get_weather", "parameters": {"city": "Paris"}}<|eot_id|>' +
        '<|start_header_id|>ipython<|end_header_id|>\n\n{"output": "18 C, cloudy"}<|eot_id|>' +
        "<|start_header_id|>ipython<|end_header_id|>\n\n24 C<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    );
  });
});
