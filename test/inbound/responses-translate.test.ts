/**
 * `POST /v1/responses` and `GET /v1/responses/{id}` with the official
 * `openai` SDK as the client, translated to a Chat Completions upstream
 * (a scripted fake on loopback) and to the built-in `echo`: text, a
 * function-calling round trip, reasoning, `previous_response_id` from the
 * record, errors in OpenAI's shape, a failure in the middle of a stream.
 */
import OpenAI from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { send } from "../helpers/exchanges.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";
import { FAKE_USAGE, startChatFake, type ChatFake } from "./helpers/responses-chat-fake.js";

let proxy: TestProxy;
let fake: ChatFake;
let client: OpenAI;

beforeAll(async () => {
  fake = await startChatFake();
  proxy = await startTestProxy({ models: { fake: fakeDeployment(fake.baseUrl) } });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "sk-test-not-a-secret", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});
beforeEach(() => {
  fake.requests.length = 0;
});

const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "The weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

/** Every event of a streamed response, through the SDK. */
async function streamEvents(body: OpenAI.Responses.ResponseCreateParamsStreaming): Promise<ResponseStreamEvent[]> {
  const stream = await client.responses.create(body);
  const events: ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function expectIncreasingSequence(events: readonly { sequence_number: number }[]): void {
  expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
}

describe("Responses to a chat upstream", () => {
  it("answers a text request: instructions as the system message, the response object with mapped usage", async () => {
    fake.answer({ text: "Hello there." });
    const response = await client.responses.create({
      model: "fake",
      instructions: "Be brief.",
      input: "Say hello",
      max_output_tokens: 50,
      temperature: 0.2,
      metadata: { ticket: "42" },
    });
    expect(response.id).toMatch(/^resp_[0-9a-z]{26}$/);
    expect(response.object).toBe("response");
    expect(response.status).toBe("completed");
    expect(response.model).toBe("fake");
    expect(response.output_text).toBe("Hello there.");
    expect(response.output).toHaveLength(1);
    expect(response.output[0]).toMatchObject({ type: "message", role: "assistant", status: "completed" });
    expect(response.usage).toEqual({
      input_tokens: FAKE_USAGE.prompt_tokens,
      input_tokens_details: { cached_tokens: 32 },
      output_tokens: FAKE_USAGE.completion_tokens,
      output_tokens_details: { reasoning_tokens: 4 },
      total_tokens: FAKE_USAGE.total_tokens,
    });
    expect(response.metadata).toEqual({ ticket: "42" });
    const sent = fake.requests[0]!;
    expect(sent.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Say hello" },
    ]);
    expect(sent.max_tokens).toBe(50);
    expect(sent.temperature).toBe(0.2);
    expect(sent).not.toHaveProperty("metadata");
    expect(sent).not.toHaveProperty("input");
  });

  it("streams text: created, in_progress, the item and part before the deltas, completed with usage", async () => {
    fake.answer({ text: "One two three." });
    const events = await streamEvents({ model: "fake", input: "Count", stream: true });
    expectIncreasingSequence(events);
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const done = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(done.response.output_text ?? textOf(done.response)).toBe("One two three.");
    expect(done.response.usage?.total_tokens).toBe(FAKE_USAGE.total_tokens);
    expect(fake.requests[0]!.stream_options).toEqual({ include_usage: true });
  });

  it("runs a function-calling round trip: function_call out, function_call_output back as a tool message", async () => {
    fake.answer({ toolCalls: [{ id: "call_w1", name: "get_weather", arguments: '{"city":"Paris"}' }] });
    const stream = client.responses.stream({ model: "fake", input: "Weather in Paris?", tools: [weatherTool] });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const first = await stream.finalResponse();
    expect(types).toContain("response.function_call_arguments.delta");
    expect(types).toContain("response.function_call_arguments.done");
    const call = first.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    expect(call).toMatchObject({
      type: "function_call",
      call_id: "call_w1",
      name: "get_weather",
      arguments: '{"city":"Paris"}',
    });
    expect(fake.requests[0]!.tools).toEqual([
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "The weather in a city",
          parameters: weatherTool.parameters,
          strict: false,
        },
      },
    ]);

    fake.answer({ text: "It is sunny in Paris." });
    const second = await client.responses.create({
      model: "fake",
      tools: [weatherTool],
      input: [
        { role: "user", content: "Weather in Paris?" },
        { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: "function_call_output", call_id: call.call_id, output: "sunny, 24C" },
      ],
    });
    expect(second.output_text).toBe("It is sunny in Paris.");
    expect(fake.requests[1]!.messages).toEqual([
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_w1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_w1", content: "sunny, 24C" },
    ]);
    await proxy.server.ctx.recorder.flush();
    const conversations = rows<{ conversation_id: string }>(
      proxy.dbPath,
      "select distinct r.conversation_id from responses r join llm_relay_exchanges e on e.response_id = r.id where r.id in (?, ?)",
      first.id.slice(5),
      second.id.slice(5),
    );
    expect(conversations).toHaveLength(1);
  });

  it("translates roles, parts, text.format, reasoning effort and namespaced tools, and maps calls back", async () => {
    fake.answer({ toolCalls: [{ id: "call_n1", name: "crm__find_customer", arguments: '{"q":"ada"}' }] });
    const response = await client.responses.create({
      model: "fake",
      input: [
        { type: "message", role: "developer", content: [{ type: "input_text", text: "Use the CRM." }] },
        {
          role: "user",
          content: [
            { type: "input_text", text: "Who is this?" },
            { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "low" },
          ],
        },
        { type: "reasoning", id: "rs_old", summary: [{ type: "summary_text", text: "dropped" }] },
        {
          type: "message",
          id: "msg_old",
          status: "completed",
          role: "assistant",
          content: [{ type: "output_text", text: "Let me look.", annotations: [] }],
        },
        { type: "message", role: "user", content: "Go on" },
      ],
      reasoning: { effort: "low", summary: "auto" },
      text: {
        format: { type: "json_schema", name: "answer", schema: { type: "object", properties: {} }, strict: true },
      },
      tools: [
        {
          type: "namespace",
          name: "crm",
          description: "The CRM",
          tools: [{ type: "function", name: "find_customer", parameters: { type: "object", properties: {} } }],
        },
        { type: "web_search" },
      ] as unknown as OpenAI.Responses.Tool[],
      tool_choice: "required",
      parallel_tool_calls: false,
    });
    const sent = fake.requests[0]!;
    expect(sent.messages).toEqual([
      { role: "system", content: "Use the CRM." },
      {
        role: "user",
        content: [
          { type: "text", text: "Who is this?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "low" } },
        ],
      },
      { role: "assistant", content: "Let me look." },
      { role: "user", content: "Go on" },
    ]);
    expect(sent.reasoning_effort).toBe("low");
    expect(sent.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "answer", schema: { type: "object", properties: {} }, strict: true },
    });
    expect(sent.tools).toEqual([
      {
        type: "function",
        function: { name: "crm__find_customer", parameters: { type: "object", properties: {} } },
      },
    ]);
    expect(sent.tool_choice).toBe("required");
    expect(sent.parallel_tool_calls).toBe(false);
    expect(response.output[0]).toMatchObject({
      type: "function_call",
      name: "find_customer",
      namespace: "crm",
      call_id: "call_n1",
    });
  });

  it("turns reasoning_content into a reasoning item with its summary, streamed and not", async () => {
    fake.answer({ reasoning: "The user wants a number.", text: "42" });
    const events = await streamEvents({ model: "fake", input: "A number?", stream: true });
    const types = events.map((e) => e.type);
    expect(types.slice(0, 5)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.reasoning_summary_part.added",
      "response.reasoning_summary_text.delta",
    ]);
    expect(types.indexOf("response.reasoning_summary_text.done")).toBeLessThan(
      types.indexOf("response.output_text.delta"),
    );
    const done = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(done.response.output.map((item) => item.type)).toEqual(["reasoning", "message"]);
    expect((done.response.output[0] as OpenAI.Responses.ResponseReasoningItem).summary).toEqual([
      { type: "summary_text", text: "The user wants a number." },
    ]);

    fake.answer({ reasoning: "Thinking.", text: "7" });
    const response = await client.responses.create({ model: "fake", input: "Another?" });
    expect(response.output.map((item) => item.type)).toEqual(["reasoning", "message"]);
    expect(response.output_text).toBe("7");
  });

  it("continues from previous_response_id right after the answer, from the record", async () => {
    fake.answer({ text: "Paris is the capital." });
    const first = await client.responses.create({
      model: "fake",
      instructions: "Answer briefly.",
      input: "Capital of France?",
    });
    fake.answer({ text: "About 2 million." });
    // At once: the recorder has not written the first exchange yet; the lookup writes it out.
    const second = await client.responses.create({
      model: "fake",
      instructions: "Answer briefly.",
      previous_response_id: first.id,
      input: "Its population?",
    });
    expect(second.previous_response_id).toBe(first.id);
    expect(fake.requests[1]!.messages).toEqual([
      { role: "system", content: "Answer briefly." },
      { role: "user", content: "Capital of France?" },
      { role: "assistant", content: "Paris is the capital." },
      { role: "user", content: "Its population?" },
    ]);
    fake.answer({ text: "Yes." });
    // A chain of two: the bare id is accepted too.
    await client.responses.create({ model: "fake", previous_response_id: second.id.slice(5), input: "Sure?" });
    expect(fake.requests[2]!.messages).toEqual([
      { role: "user", content: "Capital of France?" },
      { role: "assistant", content: "Paris is the capital." },
      { role: "user", content: "Its population?" },
      { role: "assistant", content: "About 2 million." },
      { role: "user", content: "Sure?" },
    ]);
  });

  it("continues a recorded chat-completions exchange", async () => {
    fake.answer({ text: "Blue." });
    const chat = await send(`${proxy.baseURL}/chat/completions`, {
      body: { model: "fake", messages: [{ role: "user", content: "Sky colour?" }] },
    });
    expect(chat.status).toBe(200);
    const requestId = chat.headers.get("x-request-id");
    const recorded = () =>
      rows<{ response_id: string }>(
        proxy.dbPath,
        "select response_id from llm_relay_exchanges where request_id = ?",
        requestId,
      );
    await until("the chat exchange recorded", async () => {
      await proxy.server.ctx.recorder.flush();
      return recorded().length === 1;
    });
    const id = recorded()[0]!.response_id;
    fake.answer({ text: "Because of Rayleigh scattering." });
    await client.responses.create({ model: "fake", previous_response_id: `resp_${id}`, input: "Why?" });
    expect(fake.requests[1]!.messages).toEqual([
      { role: "user", content: "Sky colour?" },
      { role: "assistant", content: "Blue." },
      { role: "user", content: "Why?" },
    ]);
  });

  it("GET /v1/responses/{id} returns the recorded response; unknown ids are 404 not_found in OpenAI's shape", async () => {
    fake.answer({ reasoning: "Short.", text: "Recorded answer." });
    const created = await client.responses.create({ model: "fake", input: "Keep this", store: true });
    const retrieved = await client.responses.retrieve(created.id);
    expect(retrieved.id).toBe(created.id);
    expect(retrieved.status).toBe("completed");
    expect(retrieved.output).toEqual(created.output);
    expect(retrieved.usage).toEqual(created.usage);
    expect(retrieved.created_at).toBe(created.created_at);

    const unknown = await send(`${proxy.baseURL}/responses/resp_01aaaaaaaaaaaaaaaaaaaaaaaa`);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({
      error: {
        message: "Response with id 'resp_01aaaaaaaaaaaaaaaaaaaaaaaa' not found.",
        type: "invalid_request_error",
        param: null,
        code: "not_found",
      },
    });
    const garbage = await send(`${proxy.baseURL}/responses/not-an-id`);
    expect(garbage.status).toBe(404);

    const previous = await send(`${proxy.baseURL}/responses`, {
      body: { model: "fake", input: "Go on", previous_response_id: "resp_01bbbbbbbbbbbbbbbbbbbbbbbb" },
    });
    expect(previous.status).toBe(404);
    expect(previous.json).toMatchObject({
      error: { type: "invalid_request_error", param: "previous_response_id", code: "not_found" },
    });
    await expect(
      client.responses.create({ model: "fake", input: "x", previous_response_id: "resp_01bbbbbbbbbbbbbbbbbbbbbbbb" }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("refuses a tool type that cannot be translated with a 400 naming it, and sends nothing upstream", async () => {
    const answer = await send(`${proxy.baseURL}/responses`, {
      body: {
        model: "fake",
        input: "Find it",
        tools: [weatherTool, { type: "file_search", vector_store_ids: ["vs_1"] }],
      },
    });
    expect(answer.status).toBe(400);
    const error = (answer.json as { error: Record<string, unknown> }).error;
    expect(error.type).toBe("invalid_request_error");
    expect(error.param).toBe("tools[1].type");
    expect(String(error.message)).toContain('"file_search"');
    expect(fake.requests).toHaveLength(0);
    await expect(
      client.responses.create({
        model: "fake",
        input: "x",
        tools: [{ type: "code_interpreter", container: { type: "auto" } }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it("ends a stream broken by the upstream with an error event and response.failed", async () => {
    fake.answer({ text: "This answer will be cut somewhere in the middle.", resetAfterChunks: 4 });
    const events = await streamEvents({ model: "fake", input: "Go", stream: true });
    expectIncreasingSequence(events);
    const types = events.map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(["response.created", "response.in_progress", "response.output_item.added"]);
    expect(types).toContain("response.output_text.delta");
    expect(types.slice(-2)).toEqual(["error", "response.failed"]);
    const failed = events.at(-1) as OpenAI.Responses.ResponseFailedEvent;
    expect(failed.response.status).toBe("failed");
    expect(failed.response.error?.message).toBeTruthy();
    expect(types).not.toContain("response.completed");
  });
});

describe("previous_response_id before the recorder wrote the previous exchange", () => {
  let slow: TestProxy;
  beforeAll(async () => {
    // The recorder never writes on its own during the test: only the lookup's flush does.
    slow = await startTestProxy(
      { models: { fake: fakeDeployment(fake.baseUrl) } },
      { recorder: { flushIntervalMs: 600_000 } },
    );
  });
  afterAll(async () => slow.close());

  it("writes the recorder's batch out and continues from it", async () => {
    const slowClient = new OpenAI({ baseURL: slow.baseURL, apiKey: "sk-test-not-a-secret", maxRetries: 0 });
    fake.answer({ text: "First answer." });
    const first = await slowClient.responses.create({ model: "fake", input: "First question" });
    expect(rows(slow.dbPath, "select 1 from llm_relay_exchanges")).toHaveLength(0);
    fake.answer({ text: "Second answer." });
    const second = await slowClient.responses.create({
      model: "fake",
      previous_response_id: first.id,
      input: "Second question",
    });
    expect(second.output_text).toBe("Second answer.");
    expect(fake.requests.at(-1)!.messages).toEqual([
      { role: "user", content: "First question" },
      { role: "assistant", content: "First answer." },
      { role: "user", content: "Second question" },
    ]);
  });
});

describe("Responses to echo", () => {
  it("echoes the last user input, streamed and not", async () => {
    const events = await streamEvents({ model: "echo", input: "echo these words back", stream: true });
    expectIncreasingSequence(events);
    const done = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(done.type).toBe("response.completed");
    expect(textOf(done.response)).toBe("echo these words back");
    expect(done.response.usage?.input_tokens).toBeGreaterThan(0);
    const response = await client.responses.create({
      model: "echo",
      input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "plain answer" }] }],
    });
    expect(response.output_text).toBe("plain answer");
  });
});

function textOf(response: OpenAI.Responses.Response): string {
  return response.output
    .flatMap((item) => (item.type === "message" ? item.content : []))
    .map((part) => (part.type === "output_text" ? part.text : ""))
    .join("");
}
