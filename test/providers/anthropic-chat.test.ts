/**
 * The `anthropic` provider through the real proxy, with the `openai` SDK
 * as the client and a loopback fake of Anthropic's Messages API replaying
 * documented event shapes (test/fixtures/protocols/anthropic/): plain
 * answers and a tool-call round trip, streamed and not, what the client
 * gets, what Anthropic was sent, and the usage recorded in logs.db.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lookupModel } from "../../src/catalog/index.js";
import { rows } from "../helpers/db.js";
import {
  FAKE_ANTHROPIC_KEY,
  startFakeAnthropic,
  type FakeAnthropicUpstream,
} from "../helpers/fake-anthropic-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";

const MODEL = "claude-sonnet-4-20250514";
const HELLO =
  "Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I can help you with?";
const CHECKING = "I'll check the current weather in San Francisco for you.";
const WEATHER =
  "The current weather in San Francisco is 15 degrees Celsius (59 degrees Fahrenheit). It's a cool day in the city by the bay!";

let fake: FakeAnthropicUpstream;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  proxy = await startTestProxy(
    {
      models: {
        claude: fakeDeployment(fake.baseUrl, { provider: "anthropic", api_key_env: "ANTHROPIC_API_KEY", model: MODEL }),
      },
    },
    { env: { ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY } },
  );
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});

interface Row {
  request_id: string;
  response: string;
  input_tokens: number;
  output_tokens: number;
  status: string;
  provider: string;
  usage_estimated: number;
  finish_reason: string;
  conversation_id: string;
}

async function recorded(requestId: string): Promise<Row> {
  await proxy.server.ctx.recorder.flush();
  const found = rows<Row>(
    proxy.dbPath,
    `select x.request_id, r.response, r.input_tokens, r.output_tokens, x.status, x.provider, x.usage_estimated, x.finish_reason, r.conversation_id
       from responses r join llm_relay_exchanges x on x.response_id = r.id where x.request_id = ?`,
    requestId,
  );
  expect(found, `records of ${requestId}`).toHaveLength(1);
  return found[0]!;
}

const weatherTool: OpenAI.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the current weather in a given location",
    parameters: {
      type: "object",
      properties: {
        location: { type: "string", description: "The city and state, e.g. San Francisco, CA" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
      },
      required: ["location"],
    },
  },
};
const question: OpenAI.ChatCompletionMessageParam = {
  role: "user",
  content: "What's the weather like in San Francisco?",
};

describe("anthropic provider: plain answers", () => {
  it("answers a non-streamed request; Anthropic gets the key, version, system and a max_tokens from the catalog", async () => {
    const before = fake.requests.length;
    const completion = await client.chat.completions.create(
      {
        model: "claude",
        messages: [
          { role: "system", content: "You are friendly." },
          { role: "user", content: "Hello, how are you?" },
        ],
      },
      { headers: { "x-request-id": "anthropic-plain-1" } },
    );
    expect(completion).toMatchObject({ id: "msg_01TestTextResponse", object: "chat.completion", model: MODEL });
    expect(completion.choices).toEqual([
      { index: 0, message: { role: "assistant", content: HELLO }, finish_reason: "stop" },
    ]);
    expect(completion.usage).toMatchObject({
      prompt_tokens: 12,
      completion_tokens: 30,
      total_tokens: 42,
      prompt_tokens_details: { cached_tokens: 0 },
    });

    expect(fake.requests).toHaveLength(before + 1);
    const sent = fake.requests.at(-1)!;
    expect(sent.rejected).toBeNull();
    expect(sent.path).toBe("/v1/messages");
    expect(sent.headers["x-api-key"]).toBe(FAKE_ANTHROPIC_KEY);
    expect(sent.headers["anthropic-version"]).toBe("2023-06-01");
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toEqual({
      model: MODEL,
      max_tokens: lookupModel("anthropic", MODEL)!.maxOutputTokens,
      system: [{ type: "text", text: "You are friendly." }],
      messages: [{ role: "user", content: [{ type: "text", text: "Hello, how are you?" }] }],
    });

    expect(await recorded("anthropic-plain-1")).toMatchObject({
      response: HELLO,
      input_tokens: 12,
      output_tokens: 30,
      status: "ok",
      provider: "anthropic",
      usage_estimated: 0,
      finish_reason: "stop",
    });
  });

  it("streams: a role chunk first, the text as it comes, the finish chunk; usage only when asked", async () => {
    const stream = await client.chat.completions.create(
      { model: "claude", messages: [{ role: "user", content: "Hello, how are you?" }], stream: true },
      { headers: { "x-request-id": "anthropic-stream-1" } },
    );
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: "assistant", content: "" });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(HELLO);
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(1);
    expect(chunks.at(-1)!.choices).toEqual([{ index: 0, delta: {}, finish_reason: "stop" }]);
    expect(
      chunks.every((c) => c.choices.length === 1 && c.id === "msg_01QC4g3HwBThD4BaNtBckFDJ" && c.model === MODEL),
    ).toBe(true);
    expect(fake.requests.at(-1)!.body).toMatchObject({
      stream: true,
      messages: [{ role: "user", content: [{ type: "text", text: "Hello, how are you?" }] }],
    });
    expect(await recorded("anthropic-stream-1")).toMatchObject({
      response: HELLO,
      input_tokens: 12,
      output_tokens: 30,
      status: "ok",
      usage_estimated: 0,
    });

    const withUsage = await client.chat.completions.create({
      model: "claude",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of withUsage) if (chunk.choices.length === 0) usage = chunk.usage;
    expect(usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 });
    // stream_options is the proxy's business: it never reaches Anthropic.
    expect(fake.requests.at(-1)!.body).not.toHaveProperty("stream_options");
  });
});

describe("anthropic provider: a tool-call round trip", () => {
  it("non-streamed: tool_use comes back as tool_calls, the tool result goes up as tool_result", async () => {
    fake.queue({ kind: "replay", fixture: "tool-use" }, { kind: "replay", fixture: "tool-answer" });
    const first = await client.chat.completions.create(
      { model: "claude", messages: [question], tools: [weatherTool] },
      { headers: { "x-request-id": "anthropic-tools-1" } },
    );
    const call = first.choices[0]!;
    expect(call.finish_reason).toBe("tool_calls");
    expect(call.message.content).toBe(CHECKING);
    expect(call.message.tool_calls).toHaveLength(1);
    const toolCall = call.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(toolCall).toMatchObject({
      id: "toolu_01A09q90qw90lq917835lq9",
      type: "function",
      function: { name: "get_weather" },
    });
    expect(JSON.parse(toolCall.function.arguments)).toEqual({ location: "San Francisco, CA", unit: "celsius" });
    expect(fake.requests.at(-1)!.body.tools).toEqual([
      {
        name: "get_weather",
        description: weatherTool.function.description,
        input_schema: weatherTool.function.parameters,
      },
    ]);
    expect(fake.requests.at(-1)!.body).not.toHaveProperty("tool_choice");

    const second = await client.chat.completions.create(
      {
        model: "claude",
        messages: [question, call.message, { role: "tool", tool_call_id: toolCall.id, content: "15 degrees" }],
        tools: [weatherTool],
      },
      { headers: { "x-request-id": "anthropic-tools-2" } },
    );
    expect(second.choices[0]).toMatchObject({
      message: { role: "assistant", content: WEATHER },
      finish_reason: "stop",
    });
    // 40 uncached + 412 read from the prompt cache.
    expect(second.usage).toMatchObject({
      prompt_tokens: 452,
      completion_tokens: 33,
      prompt_tokens_details: { cached_tokens: 412 },
      cache_read_input_tokens: 412,
    });
    const sent = fake.requests.at(-1)!;
    expect(sent.rejected).toBeNull();
    expect(sent.body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "What's the weather like in San Francisco?" }] },
      {
        role: "assistant",
        content: [
          { type: "text", text: CHECKING },
          {
            type: "tool_use",
            id: "toolu_01A09q90qw90lq917835lq9",
            name: "get_weather",
            input: { location: "San Francisco, CA", unit: "celsius" },
          },
        ],
      },
      {
        role: "user",
        content: [{ type: "tool_result", tool_use_id: "toolu_01A09q90qw90lq917835lq9", content: "15 degrees" }],
      },
    ]);

    const [one, two] = [await recorded("anthropic-tools-1"), await recorded("anthropic-tools-2")];
    expect(one).toMatchObject({ input_tokens: 384, output_tokens: 81, finish_reason: "tool_calls", status: "ok" });
    expect(two).toMatchObject({ response: WEATHER, input_tokens: 452, output_tokens: 33, finish_reason: "stop" });
    expect(two.conversation_id).toBe(one.conversation_id);
  });

  it("streamed: the SDK's stream helper assembles the tool call from the argument deltas, and the round trip completes", async () => {
    fake.queue({ kind: "replay", fixture: "tool-use" }, { kind: "replay", fixture: "tool-answer" });
    const stream = client.chat.completions.stream(
      { model: "claude", messages: [question], tools: [weatherTool], parallel_tool_calls: false },
      { headers: { "x-request-id": "anthropic-tools-s1" } },
    );
    const argumentDeltas: string[] = [];
    stream.on("chunk", (chunk) => {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? [])
        if (delta.function?.arguments) argumentDeltas.push(delta.function.arguments);
    });
    const first = await stream.finalChatCompletion();
    const call = first.choices[0]!;
    expect(call.finish_reason).toBe("tool_calls");
    expect(call.message.content).toBe(CHECKING);
    const toolCall = call.message.tool_calls![0]!;
    expect(toolCall).toMatchObject({
      id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
      type: "function",
      function: { name: "get_weather" },
    });
    expect(JSON.parse(toolCall.function.arguments)).toEqual({ location: "San Francisco, CA", unit: "celsius" });
    expect(argumentDeltas.length).toBeGreaterThan(1);
    expect(fake.requests.at(-1)!.body).toMatchObject({
      stream: true,
      tool_choice: { type: "auto", disable_parallel_tool_use: true },
    });

    const answer = client.chat.completions.stream(
      {
        model: "claude",
        messages: [
          question,
          { role: "assistant", content: call.message.content, tool_calls: call.message.tool_calls! },
          { role: "tool", tool_call_id: toolCall.id, content: [{ type: "text", text: "15 degrees" }] },
        ],
        tools: [weatherTool],
        stream_options: { include_usage: true },
      },
      { headers: { "x-request-id": "anthropic-tools-s2" } },
    );
    const second = await answer.finalChatCompletion();
    expect(second.choices[0]).toMatchObject({ message: { content: WEATHER }, finish_reason: "stop" });
    expect(second.usage).toMatchObject({ prompt_tokens: 452, completion_tokens: 33, total_tokens: 485 });
    const sent = fake.requests.at(-1)!;
    expect(sent.rejected).toBeNull();
    expect((sent.body.messages as unknown[])[2]).toEqual({
      role: "user",
      content: [
        {
          type: "tool_result",
          tool_use_id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
          content: [{ type: "text", text: "15 degrees" }],
        },
      ],
    });

    expect(await recorded("anthropic-tools-s1")).toMatchObject({
      response: CHECKING,
      input_tokens: 384,
      output_tokens: 89,
      finish_reason: "tool_calls",
      status: "ok",
    });
    expect(await recorded("anthropic-tools-s2")).toMatchObject({
      response: WEATHER,
      input_tokens: 452,
      output_tokens: 33,
      status: "ok",
    });
  });
});

describe("anthropic provider: stop reasons", () => {
  const cases = [
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
  ] as const;

  it.each(cases)("stop_reason %s → finish_reason %s, streamed and not", async (stopReason, expected) => {
    fake.queue({ kind: "replay", fixture: "text", stopReason }, { kind: "replay", fixture: "text", stopReason });
    const completion = await client.chat.completions.create({
      model: "claude",
      messages: [{ role: "user", content: "Hi" }],
      stop: "\n\nHuman:",
    });
    expect(completion.choices[0]!.finish_reason).toBe(expected);
    expect(fake.requests.at(-1)!.body.stop_sequences).toEqual(["\n\nHuman:"]);
    const stream = await client.chat.completions.create({
      model: "claude",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    const reasons: (string | null)[] = [];
    for await (const chunk of stream) reasons.push(chunk.choices[0]?.finish_reason ?? null);
    expect(reasons.filter((r) => r !== null)).toEqual([expected]);
    expect(reasons.at(-1)).toBe(expected);
  });
});
