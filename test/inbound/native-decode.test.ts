/**
 * Reading native answers for the record (src/protocol/native-output.ts):
 * Anthropic messages and streams (the repository's captured fixtures,
 * llama-server 2026-09's capture) and OpenAI Responses bodies and streams
 * (llama-server 2026-09's capture, and shapes of the API reference) as the
 * chat completion or chunks the recorder assembles.
 */
import { describe, expect, it } from "vitest";
import { decodeNativeOutput } from "../../src/protocol/native-output.js";
import { assembleExchange } from "../../src/recording/assemble.js";
import type { PendingExchange } from "../../src/recording/types.js";
import { anthropicFixture } from "../helpers/fake-anthropic-upstream.js";
import { llamaServerCapture } from "./helpers/native-upstream.js";

/** The assembled record fields of a native answer, through the recorder's own assembly. */
function assembled(output: PendingExchange["output"], provider = "anthropic") {
  const pending = {
    id: "01jtest",
    requestId: "req_1",
    model: "m",
    provider,
    deployment: "d",
    upstreamModel: "m",
    requestBody: { model: "m", messages: [{ role: "user", content: "hi" }] },
    messages: [{ role: "user", content: "hi" }],
    status: "ok",
    error: null,
    errorJson: null,
    startedAt: Date.now(),
    durationMs: 5,
    ttftMs: 1,
    output,
  } as unknown as PendingExchange;
  return assembleExchange(pending);
}

describe("Anthropic Messages", () => {
  it("reads a message: text, tool use, usage with cache counts", () => {
    const body = anthropicFixture("message-tool-use.json").replace(
      /"cache_read_input_tokens":\s*0/,
      '"cache_read_input_tokens": 50',
    );
    const record = assembled({ kind: "native", protocol: "messages", stream: false, body, blocks: [] });
    const message = JSON.parse(body) as { content: { type: string; id?: string; name?: string; input?: unknown }[] };
    const toolUse = message.content.find((block) => block.type === "tool_use")!;
    expect(record.toolCalls).toEqual([
      { id: toolUse.id, name: toolUse.name, arguments: JSON.stringify(toolUse.input) },
    ]);
    expect(record.finishReason).toBe("tool_calls");
    expect(record.usage?.details).toMatchObject({ cache_read_input_tokens: 50 });
    expect(record.usage?.input).toBeGreaterThanOrEqual(50);
  });

  it("reads a stream: text, tool call arguments, stop reason and the usage of message_start and message_delta", () => {
    const sse = anthropicFixture("stream-tool-use.sse").replace(
      '"cache_creation_input_tokens":0',
      '"cache_creation_input_tokens":20',
    );
    const blocks = sse.split(/(?<=\n\n)/);
    const record = assembled({ kind: "native", protocol: "messages", stream: true, body: "", blocks });
    expect(record.responseText).toBe("I'll check the current weather in San Francisco for you.");
    expect(record.toolCalls).toHaveLength(1);
    expect(JSON.parse(record.toolCalls[0]!.arguments)).toEqual({ location: "San Francisco, CA", unit: "celsius" });
    expect(record.finishReason).toBe("tool_calls");
    expect(record.usage?.input).toBe(384 + 20);
    expect(record.usage?.details).toMatchObject({ cache_creation_input_tokens: 20 });
  });

  it("reads llama-server 2026-09's message and stream", () => {
    const body = llamaServerCapture("POST /v1/messages (non-stream)");
    const one = assembled(
      { kind: "native", protocol: "messages", stream: false, body, blocks: [] },
      "openai-compatible",
    );
    expect(one.responseText).toBe('"Mama," J');
    expect(one.finishReason).toBe("length");
    expect(one.usage).toMatchObject({ input: 46, output: 8 });
    const sse = llamaServerCapture("POST /v1/messages (stream)");
    const streamed = assembled(
      { kind: "native", protocol: "messages", stream: true, body: "", blocks: [sse] },
      "openai-compatible",
    );
    expect(streamed.responseText).toBe('"He');
    expect(streamed.usage).toMatchObject({ input: 46, output: 3 });
  });

  it("reads a stream cut short up to where it stopped", () => {
    const blocks = anthropicFixture("stream-text.sse")
      .split(/(?<=\n\n)/)
      .slice(0, 4);
    const decoded = decodeNativeOutput({ protocol: "messages", stream: true, body: "", blocks });
    expect(decoded.kind).toBe("stream");
    const record = assembled({ kind: "native", protocol: "messages", stream: true, body: "", blocks });
    expect(record.responseText.length).toBeGreaterThan(0);
    expect(record.finishReason).toBeNull();
    const start = JSON.parse(blocks[0]!.split("data: ")[1]!) as { message: { usage: { input_tokens: number } } };
    expect(record.usage?.input).toBe(start.message.usage.input_tokens);
  });

  it("refuses a body that is not a message", () => {
    expect(() =>
      decodeNativeOutput({ protocol: "messages", stream: false, body: '{"object":"x"}', blocks: [] }),
    ).toThrow(/not an Anthropic message/);
  });
});

describe("OpenAI Responses", () => {
  it("reads llama-server 2026-09's response body and stream with cached tokens", () => {
    const body = llamaServerCapture("POST /v1/responses (non-stream)");
    const one = assembled(
      { kind: "native", protocol: "responses", stream: false, body, blocks: [] },
      "openai-compatible",
    );
    expect(one.responseText).toBe('"Here?" A');
    expect(one.usage).toEqual({
      input: 46,
      output: 8,
      estimated: false,
      details: { prompt_tokens_details: { cached_tokens: 45 } },
    });
    const sse = llamaServerCapture("POST /v1/responses (stream)");
    const streamed = assembled(
      { kind: "native", protocol: "responses", stream: true, body: "", blocks: sse.split(/(?<=\n\n)/) },
      "openai-compatible",
    );
    expect(streamed.responseText).toBe('"He');
    expect(streamed.finishReason).toBe("stop");
    expect(streamed.usage).toMatchObject({ input: 46, output: 3 });
  });

  it("reads function calls, reasoning summaries, reasoning tokens and an incomplete status", () => {
    const response = {
      id: "resp_1",
      object: "response",
      created_at: 1700000000,
      model: "gpt-5",
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
      output: [
        { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "Thinking about weather." }] },
        { type: "function_call", id: "fc_1", call_id: "call_9", name: "get_weather", arguments: '{"city":"Paris"}' },
      ],
      usage: {
        input_tokens: 30,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 12,
        output_tokens_details: { reasoning_tokens: 7 },
        total_tokens: 42,
      },
    };
    const record = assembled(
      { kind: "native", protocol: "responses", stream: false, body: JSON.stringify(response), blocks: [] },
      "openai-compatible",
    );
    expect(record.toolCalls).toEqual([{ id: "call_9", name: "get_weather", arguments: '{"city":"Paris"}' }]);
    expect(record.reasoning).toBe("Thinking about weather.");
    expect(record.finishReason).toBe("length");
    expect(record.usage).toEqual({
      input: 30,
      output: 12,
      estimated: false,
      details: { completion_tokens_details: { reasoning_tokens: 7 } },
    });
  });

  it("reads a stream cut before response.completed from its deltas", () => {
    const events = [
      { type: "response.created", response: { id: "resp_2", object: "response", model: "m", status: "in_progress" } },
      {
        type: "response.output_item.added",
        output_index: 0,
        item: { type: "function_call", call_id: "call_1", name: "f", arguments: "" },
      },
      { type: "response.function_call_arguments.delta", output_index: 0, delta: '{"a":' },
      { type: "response.function_call_arguments.delta", output_index: 0, delta: "1}" },
      { type: "response.output_item.added", output_index: 1, item: { type: "message", content: [] } },
      { type: "response.output_text.delta", output_index: 1, delta: "Hal" },
    ];
    const blocks = events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    const record = assembled(
      { kind: "native", protocol: "responses", stream: true, body: "", blocks },
      "openai-compatible",
    );
    expect(record.responseText).toBe("Hal");
    expect(record.toolCalls).toEqual([{ id: "call_1", name: "f", arguments: '{"a":1}' }]);
    expect(record.usage).toBeNull();
  });

  it("refuses a body that is not a response", () => {
    expect(() => decodeNativeOutput({ protocol: "responses", stream: false, body: "[1]", blocks: [] })).toThrow(
      /not an OpenAI response/,
    );
  });
});
