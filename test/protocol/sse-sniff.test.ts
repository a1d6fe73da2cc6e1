/**
 * The pass-through sniffer (src/protocol/sse-sniff.ts) answers the same for
 * compact JSON (llama-server, OpenAI) and spaced JSON (KoboldCpp and Python
 * servers write `"content": "Hi"`), with tabs and newlines, keys in any
 * order, a payload split over several `data:` lines; `"content": null`,
 * `"content": ""` and escaped keys inside strings are not output.
 */
import { describe, expect, it } from "vitest";
import {
  firstDoneOrError,
  hasEmptyChoices,
  hasErrorKey,
  hasFinish,
  hasOutput,
  isUsageOnlyPayload,
  nextEmptyChoices,
} from "../../src/protocol/sse-sniff.js";
import { withoutEvents } from "../../src/protocol/sse-text.js";

/** The same JSON value written compact, Python-style (`json.dumps` default), and with tabs and newlines. */
function styles(value: unknown): string[] {
  const compact = JSON.stringify(value);
  const python = compact.replace(/":/g, '": ').replace(/,"/g, ', "');
  const loose = JSON.stringify(value, null, "\t").replace(/\n/g, "\r\n");
  return [compact, python, loose];
}

const chunk = (delta: Record<string, unknown>, finish: unknown = null) => ({
  id: "c1",
  object: "chat.completion.chunk",
  choices: [{ index: 0, delta, finish_reason: finish }],
});

describe("sse-sniff", () => {
  it("sees content text and tool calls as output in every whitespace style, and the real KoboldCpp line", () => {
    for (const text of [
      ...styles(chunk({ role: "assistant", content: "Hi" })),
      ...styles(chunk({ content: "\n" })),
      ...styles(chunk({ content: '"quoted"' })),
      ...styles(chunk({ tool_calls: [{ index: 0, id: "t", function: { name: "f", arguments: "" } }] })),
      // Key order: finish_reason before delta, content before role.
      ...styles({ choices: [{ finish_reason: "null", delta: { content: "x", role: "assistant" }, index: 0 }] }),
      'data: {"id": "koboldcpp", "object": "chat.completion.chunk", "choices": [{"index": 0, "finish_reason": "null", "delta": {"role": "assistant", "content": "\\"Let\'s make"}}]}\n\n',
      // One payload over several data: lines (an SSE client joins them with LF).
      'data: {"choices": [{"delta": {"content":\ndata: "Hi"}}]}\n\n',
    ]) {
      expect(hasOutput(text), text).toBe(true);
    }
  });

  it("does not see null or empty content, an empty tool_calls list, or an escaped key inside a string as output", () => {
    for (const text of [
      ...styles(chunk({ role: "assistant", content: null })),
      ...styles(chunk({ role: "assistant", content: "" })),
      ...styles(chunk({ tool_calls: [] })),
      ...styles(chunk({ role: "assistant", reasoning_content: "" }, "stop")),
      ...styles(chunk({ tool_calls: null, content: null, arguments_text: '{"content": "x", "tool_calls": [{}]}' })),
    ]) {
      expect(hasOutput(text), text).toBe(false);
    }
  });

  it("sees reasoning text (reasoning_content, OpenRouter's reasoning) as output: the first tokens a reasoning model sends", () => {
    for (const text of [
      ...styles(chunk({ role: "assistant", content: null, reasoning_content: "Let me think" })),
      ...styles(chunk({ reasoning: "First," })),
    ]) {
      expect(hasOutput(text), text).toBe(true);
    }
    for (const text of [
      ...styles(chunk({ reasoning_content: "" })),
      ...styles(chunk({ reasoning_content: null, content: null })),
    ]) {
      expect(hasOutput(text), text).toBe(false);
    }
  });

  it('sees a real finish_reason, not null nor KoboldCpp\'s string "null"', () => {
    for (const text of [...styles(chunk({}, "stop")), ...styles(chunk({}, "length"))])
      expect(hasFinish(text), text).toBe(true);
    for (const text of [...styles(chunk({ content: "a" }, null)), ...styles(chunk({ content: "a" }, "null"))])
      expect(hasFinish(text), text).toBe(false);
  });

  it("finds the usage-only chunk however it is spaced, and only it", () => {
    const usage = {
      id: "c1",
      object: "chat.completion.chunk",
      choices: [],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    };
    for (const text of styles(usage)) {
      expect(hasEmptyChoices(text), text).toBe(true);
      expect(isUsageOnlyPayload(text), text).toBe(true);
    }
    for (const text of [
      ...styles({ ...usage, usage: null }),
      ...styles(chunk({ content: "a" })),
      ...styles({ ...chunk({ content: "a" }), usage: usage.usage }),
    ]) {
      expect(isUsageOnlyPayload(text), text).toBe(false);
    }
    for (const text of styles(chunk({ content: "a" }))) expect(hasEmptyChoices(text), text).toBe(false);
  });

  it("drops spaced usage-only events from a block when given nextEmptyChoices as the mark", () => {
    const content = 'data: {"choices": [{"delta": {"content": "a"}}]}\n\n';
    const usage = 'data: {"choices": [ ], "usage": {"total_tokens": 3}}\n\n';
    const block = content + usage + content;
    expect(nextEmptyChoices(block, 0)).toBe(content.length + "data: {".length);
    expect(nextEmptyChoices(block, content.length + 10)).toBe(-1);
    expect(withoutEvents(block, isUsageOnlyPayload, nextEmptyChoices)).toBe(content + content);
  });

  it("finds [DONE] and the error key whatever the spacing, but not an escaped one in a string", () => {
    for (const text of styles({ error: { message: "boom", type: "server_error" } })) {
      expect(hasErrorKey(text), text).toBe(true);
      expect(firstDoneOrError(`data: {"a": 1}\n\ndata: ${text}\n\n`)).toBe(
        'data: {"a": 1}\n\ndata: {'.length + (text.startsWith("{\r\n\t") ? 3 : 0),
      );
    }
    expect(firstDoneOrError('data: {"a": 1}\n\ndata: [DONE]\n\n')).toBe('data: {"a": 1}\n\ndata: '.length);
    const escaped = JSON.stringify(chunk({ content: 'say {"error": 1}' }));
    expect(hasErrorKey(escaped)).toBe(false);
    expect(firstDoneOrError(`data: ${escaped}\n\n`)).toBe(-1);
  });
});
