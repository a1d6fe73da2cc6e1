/**
 * What the named formats do with the parts of an OpenAI chat that plain
 * prompt formats have no place for: tool calls, tool results, content-part
 * arrays and the `developer` role.
 */
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../src/protocol/chat-request.js";
import { getPromptFormat } from "../../src/prompt-formats/registry.js";

const toolChat: ChatMessage[] = [
  { role: "user", content: "Weather in Paris and Rome?" },
  {
    role: "assistant",
    content: null,
    tool_calls: [
      { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
      { id: "call_2", type: "function", function: { name: "get_weather", arguments: '{"city":"Rome"}' } },
    ],
  },
  { role: "tool", tool_call_id: "call_1", content: "18 C, cloudy" },
  { role: "tool", tool_call_id: "call_2", content: "24 C, sunny" },
];

describe("tool calls and tool results", () => {
  it("chatml writes tool calls as <tool_call> blocks and the results as one user turn of <tool_response> blocks", () => {
    expect(getPromptFormat("chatml")!.render(toolChat)).toBe(
      "<|im_start|>user\nWeather in Paris and Rome?<|im_end|>\n" +
        '<|im_start|>assistant\n<tool_call>\n{"name":"get_weather","arguments":{"city":"Paris"}}\n</tool_call>\n<tool_call>\n{"name":"get_weather","arguments":{"city":"Rome"}}\n</tool_call><|im_end|>\n' +
        "<|im_start|>user\n<tool_response>\n18 C, cloudy\n</tool_response>\n<tool_response>\n24 C, sunny\n</tool_response><|im_end|>\n" +
        "<|im_start|>assistant\n",
    );
  });

  it("llama3 (Llama 3.1 JSON) keeps the text before the call, writes unparsable arguments as a string, and the result as an ipython turn", () => {
    const rendered = getPromptFormat("llama3")!.render([
      { role: "user", content: "Go" },
      {
        role: "assistant",
        content: "Let me check.",
        tool_calls: [{ id: "c", type: "function", function: { name: "run", arguments: "not json" } }],
      },
      { role: "tool", tool_call_id: "c", content: "done" },
    ]);
    expect(rendered).toContain(
      '<|start_header_id|>assistant<|end_header_id|>\n\nLet me check.\n{"name": "run", "parameters": "not json"}<|eot_id|>',
    );
    expect(rendered).toContain(
      "<|start_header_id|>ipython<|end_header_id|>\n\ndone<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    );
  });

  it("a format with the default history convention keeps the text first; unparsable arguments stay a string", () => {
    const rendered = getPromptFormat("zephyr")!.render([
      { role: "user", content: "Go" },
      {
        role: "assistant",
        content: "Let me check.",
        tool_calls: [{ id: "c", type: "function", function: { name: "run", arguments: "not json" } }],
      },
      { role: "tool", tool_call_id: "c", content: "done" },
    ]);
    expect(rendered).toContain(
      '<|assistant|>\nLet me check.\n<tool_call>\n{"name":"run","arguments":"not json"}\n</tool_call></s>',
    );
    expect(rendered).toContain("<|user|>\n<tool_response>\ndone\n</tool_response></s>\n<|assistant|>\n");
  });

  it("formats that require alternation merge a user message and the tool results after it (llama2, Hermes history)", () => {
    const rendered = getPromptFormat("llama2")!.render(
      [
        { role: "user", content: "Run it" },
        {
          role: "assistant",
          content: "",
          tool_calls: [{ id: "c", type: "function", function: { name: "run", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "c", content: "ok" },
        { role: "user", content: "And now?" },
      ],
      { bos: false },
    );
    expect(rendered).toBe(
      '[INST] Run it [/INST] <tool_call>\n{"name":"run","arguments":{}}\n</tool_call> </s><s>[INST] <tool_response>\nok\n</tool_response>\n\nAnd now? [/INST]',
    );
  });

  it("mistral-instruct writes the call as [TOOL_CALLS] and the result as its own [TOOL_RESULTS] turn, unmerged", () => {
    const rendered = getPromptFormat("mistral-instruct")!.render(
      [
        { role: "user", content: "Run it" },
        {
          role: "assistant",
          content: "",
          tool_calls: [{ id: "c", type: "function", function: { name: "run", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "c", content: "ok" },
        { role: "user", content: "And now?" },
      ],
      { bos: false },
    );
    expect(rendered).toBe(
      ' [INST] Run it [/INST] [TOOL_CALLS] [{"name":"run","arguments":{}}]</s>[TOOL_RESULTS] {"content":"ok"}[/TOOL_RESULTS] [INST] And now? [/INST]',
    );
  });
});

describe("content parts and roles", () => {
  it("joins the text parts of a content array and treats `developer` as `system`", () => {
    const rendered = getPromptFormat("zephyr")!.render([
      {
        role: "developer",
        content: [
          { type: "text", text: "Be " },
          { type: "text", text: "brief." },
        ],
      },
      {
        role: "user",
        content: [
          { type: "text", text: "What is in " },
          { type: "image_url", image_url: { url: "data:," } },
          { type: "text", text: "this?" },
        ],
      },
    ]);
    expect(rendered).toBe("<|system|>\nBe brief.</s>\n<|user|>\nWhat is in this?</s>\n<|assistant|>\n");
  });
});
