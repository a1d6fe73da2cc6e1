import { describe, expect, it } from "vitest";
import { chatCompletionRequestSchema } from "../../src/protocol/chat-request.js";
import { conversationName, llmDatetime, threadDatetime } from "../../src/recording/llm-format.js";
import { replyToLlmMessage, toLlmMessages } from "../../src/recording/llm-message.js";

describe("toLlmMessages", () => {
  it("converts roles, content arrays, tool calls and tool results", () => {
    const { messages } = chatCompletionRequestSchema.parse({
      model: "m",
      messages: [
        { role: "developer", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "a" },
            { type: "image_url", image_url: { url: "x" } },
            { type: "text", text: "b" },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "c1", type: "function", function: { name: "f", arguments: '{"x":1}' } },
            { id: "c2", type: "function", function: { name: "g", arguments: "not json" } },
          ],
        },
        { role: "tool", tool_call_id: "c1", content: "one" },
        { role: "tool", tool_call_id: "zz", content: [{ type: "text", text: "two" }] },
      ],
    });
    expect(toLlmMessages(messages)).toEqual([
      { role: "system", parts: [{ type: "text", text: "Be brief." }] },
      {
        role: "user",
        parts: [
          { type: "text", text: "a" },
          { type: "text", text: "b" },
        ],
      },
      {
        role: "assistant",
        parts: [
          { type: "tool_call", name: "f", arguments: { x: 1 }, tool_call_id: "c1" },
          { type: "tool_call", name: "g", arguments: "not json", tool_call_id: "c2" },
        ],
      },
      { role: "tool", parts: [{ type: "tool_result", name: "f", output: "one", tool_call_id: "c1" }] },
      { role: "tool", parts: [{ type: "tool_result", name: "", output: "two", tool_call_id: "zz" }] },
    ]);
  });

  it("converts a reply, text first", () => {
    expect(replyToLlmMessage("", [])).toBeNull();
    expect(replyToLlmMessage("ok", [{ id: "c", name: "f", arguments: "" }])).toEqual({
      role: "assistant",
      parts: [
        { type: "text", text: "ok" },
        { type: "tool_call", name: "f", arguments: {}, tool_call_id: "c" },
      ],
    });
  });
});

describe("llm formats", () => {
  it("formats datetimes as llm writes them", () => {
    expect(llmDatetime(Date.parse("2026-11-21T09:00:00.100Z"))).toBe("2026-11-21T09:00:00.100000+00:00");
    expect(threadDatetime(Date.parse("2026-11-21T09:10:00.250Z"))).toBe("2026-11-21 09:10:00.250000+00:00");
    expect(threadDatetime(Date.parse("2026-11-21T09:10:00Z"))).toBe("2026-11-21 09:10:00+00:00"); // Python prints no fraction for 0 µs
  });
  it("names conversations as llm does", () => {
    expect(conversationName("hello\n\n  world")).toBe("hello world");
    expect(conversationName("x".repeat(32))).toBe("x".repeat(32));
    expect(conversationName("🐧".repeat(40))).toBe(`${"🐧".repeat(31)}…`);
  });
});
