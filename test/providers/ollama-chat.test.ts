/**
 * The `ollama` provider in chat mode (`POST /api/chat`), through the real
 * proxy, against a loopback fake that answers with the shapes of Ollama's
 * API documentation (test/fixtures/protocols/ollama/): streaming and not,
 * usage and finish_reason mapping, the request Ollama receives (options,
 * always `num_ctx`), the context-window refusal, a backend that dies, one
 * that is down, a model that is not pulled, tool calls and images.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closedPort } from "../helpers/exchanges.js";
import {
  CHAT_COUNTS,
  CHAT_WHOLE_COUNTS,
  OLLAMA_TEXT,
  TOOL_COUNTS,
  startFakeOllama,
  type FakeOllama,
} from "../helpers/fake-ollama.js";
import { localDeployment, recordOf, streamEvents, streamedText } from "../helpers/local-backend-tests.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let fake: FakeOllama;
let proxy: TestProxy;
let client: OpenAI;
let downPort: number;

beforeAll(async () => {
  fake = await startFakeOllama({ "llama3.2": { contextLength: 131072 }, "tiny-ctx": { modelfileNumCtx: 2048 } });
  downPort = await closedPort();
  proxy = await startTestProxy({
    models: {
      ollama: localDeployment("ollama", fake.baseUrl, { model: "llama3.2" }),
      "ollama-tiny": localDeployment("ollama", fake.baseUrl, { model: "tiny-ctx" }),
      "ollama-small": localDeployment("ollama", fake.baseUrl, {
        model: "llama3.2",
        context_window: 64,
        extra_body: { keep_alive: "10m", options: { mirostat: 2 } },
      }),
      "ollama-missing": localDeployment("ollama", fake.baseUrl, { model: "mistral" }),
      "ollama-down": localDeployment("ollama", `http://127.0.0.1:${downPort}`, { model: "llama3.2" }),
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});
beforeEach(() => fake.behave({ kind: "ok" }));

const messages = [
  { role: "system" as const, content: "You are terse." },
  { role: "user" as const, content: "Why is the sky blue?" },
];

describe("ollama /api/chat", () => {
  it("streams through the openai SDK; Ollama's counts are the recorded usage", async () => {
    const stream = await client.chat.completions.create(
      { model: "ollama", messages, stream: true },
      { headers: { "x-request-id": "oc-stream" } },
    );
    let text = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(OLLAMA_TEXT);
    expect(finish).toBe("stop"); // the documented final line has no done_reason
    const sent = fake.requestsTo("/api/chat").at(-1)!.body;
    expect(sent).toMatchObject({
      model: "llama3.2",
      stream: true,
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "Why is the sky blue?" },
      ],
    });
    // The trained context (131072) is capped at 8192; Ollama would otherwise pick its own window.
    expect(sent.options).toEqual({ num_ctx: 8192 });
    const row = await recordOf(proxy, "oc-stream");
    expect(row).toMatchObject({
      response: OLLAMA_TEXT,
      input_tokens: CHAT_COUNTS.prompt,
      output_tokens: CHAT_COUNTS.completion,
      usage_estimated: 0,
      status: "ok",
      finish_reason: "stop",
      provider: "ollama",
      stream: 1,
    });
  });

  it("non-streaming: OpenAI parameters go under options with Ollama's names; extra_body is merged; done_reason length → length", async () => {
    fake.behave({ kind: "ok", doneReason: "length", text: "Rayleigh" });
    const completion = await client.chat.completions.create(
      {
        model: "ollama-small",
        messages: [{ role: "user", content: "Hi" }],
        temperature: 0.3,
        top_p: 0.8,
        max_tokens: 20,
        stop: ["\n\n", "User:"],
        seed: 42,
        frequency_penalty: 0.5,
        presence_penalty: 0.25,
        // @ts-expect-error non-OpenAI parameters, passed by clients such as the library's `extra`
        top_k: 30,
        repeat_penalty: 1.1,
      },
      { headers: { "x-request-id": "oc-params" } },
    );
    expect(completion.choices[0]).toMatchObject({
      message: { role: "assistant", content: "Rayleigh" },
      finish_reason: "length",
    });
    expect(completion.usage).toEqual({
      prompt_tokens: CHAT_WHOLE_COUNTS.prompt,
      completion_tokens: CHAT_WHOLE_COUNTS.completion,
      total_tokens: CHAT_WHOLE_COUNTS.prompt + CHAT_WHOLE_COUNTS.completion,
    });
    const sent = fake.requestsTo("/api/chat").at(-1)!.body;
    expect(sent.options).toEqual({
      mirostat: 2,
      num_ctx: 64,
      num_predict: 20,
      temperature: 0.3,
      top_p: 0.8,
      top_k: 30,
      seed: 42,
      repeat_penalty: 1.1,
      frequency_penalty: 0.5,
      presence_penalty: 0.25,
      stop: ["\n\n", "User:"],
    });
    expect(sent).toMatchObject({ stream: false, keep_alive: "10m" });
    for (const key of ["stop", "max_tokens", "temperature", "top_p", "seed"]) expect(sent).not.toHaveProperty(key);
    const row = await recordOf(proxy, "oc-params");
    expect(row).toMatchObject({ status: "ok", finish_reason: "length", response: "Rayleigh", usage_estimated: 0 });
  });

  it("a context_window in the config is the num_ctx sent, and /api/show is not asked", async () => {
    const showsBefore = fake.requestsTo("/api/show").filter((r) => r.body.model === "llama3.2").length;
    await client.chat.completions.create({ model: "ollama-small", messages: [{ role: "user", content: "Hi" }] });
    expect(fake.requestsTo("/api/chat").at(-1)!.body.options).toMatchObject({ num_ctx: 64 });
    expect(fake.requestsTo("/api/show").filter((r) => r.body.model === "llama3.2").length).toBe(showsBefore);
  });

  it("the Modelfile's PARAMETER num_ctx (from /api/show) is the window when the config sets none", async () => {
    await client.chat.completions.create({ model: "ollama-tiny", messages: [{ role: "user", content: "Hi" }] });
    expect(fake.requestsTo("/api/show").at(-1)!.body).toEqual({ model: "tiny-ctx" });
    expect(fake.requestsTo("/api/chat").at(-1)!.body.options).toEqual({ num_ctx: 2048 });
  });

  it("without counts from Ollama, usage is estimated with gpt-tokenizer and flagged", async () => {
    fake.behave({ kind: "ok", counts: false });
    const completion = await client.chat.completions.create(
      { model: "ollama", messages },
      { headers: { "x-request-id": "oc-nocounts" } },
    );
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage!.completion_tokens).not.toBe(CHAT_WHOLE_COUNTS.completion);
    const row = await recordOf(proxy, "oc-nocounts");
    expect(row).toMatchObject({
      usage_estimated: 1,
      input_tokens: completion.usage!.prompt_tokens,
      output_tokens: completion.usage!.completion_tokens,
    });
  });

  it("a prompt over the window is refused with 400 context_length_exceeded; nothing goes to /api/chat; the refusal is recorded", async () => {
    const chatsBefore = fake.requestsTo("/api/chat").length;
    const error = await client.chat.completions
      .create(
        { model: "ollama-small", messages: [{ role: "user", content: "word ".repeat(200) }], max_tokens: 10 },
        { headers: { "x-request-id": "oc-toolong" } },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const apiError = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(apiError.code).toBe("context_length_exceeded");
    expect(apiError.message).toMatch(/maximum context length is 64 tokens/);
    expect(apiError.message).toMatch(/\(\d+ \(estimated\) in the messages, 10 in the completion\)/);
    expect(fake.requestsTo("/api/chat").length).toBe(chatsBefore);
    const row = await recordOf(proxy, "oc-toolong");
    expect(row).toMatchObject({ status: "error", http_status: 400 });
    expect(row.error).toMatch(/maximum context length is 64 tokens/);
  });

  it("a backend that dies mid-stream: the client gets the text so far and an in-band error; recorded as truncated", async () => {
    fake.behave({ kind: "reset-after", lines: 2, text: "aaaa bbbb cccc dddd eeee" });
    const { status, events } = await streamEvents(proxy, { model: "ollama", messages }, "oc-reset");
    expect(status).toBe(200);
    expect(events).not.toContain("[DONE]");
    const error = JSON.parse(events.at(-1)!) as { error: { message: string; code: string } };
    expect(error.error.code).toBe("upstream_unreachable");
    const partial = streamedText(events.slice(0, -1));
    expect(partial.length).toBeGreaterThan(0);
    expect("aaaa bbbb cccc dddd eeee".startsWith(partial)).toBe(true);
    expect(partial).not.toBe("aaaa bbbb cccc dddd eeee");
    const row = await recordOf(proxy, "oc-reset");
    expect(row).toMatchObject({ status: "truncated", response: partial });
  });

  it("Ollama's in-band error line mid-stream reaches the client as an error event; recorded as truncated", async () => {
    fake.behave({ kind: "error-after", lines: 2, text: "one two three four five six" });
    const { events } = await streamEvents(proxy, { model: "ollama", messages }, "oc-errline");
    const error = JSON.parse(events.at(-1)!) as { error: { message: string } };
    expect(error.error.message).toMatch(/an error was encountered while running the model/);
    const row = await recordOf(proxy, "oc-errline");
    expect(row.status).toBe("truncated");
    expect(row.response).toBe(streamedText(events.slice(0, -1)));
    expect(row.error).toMatch(/an error was encountered while running the model/);
  });

  it("a backend that is down: 502 upstream_unreachable, recorded", async () => {
    const error = await client.chat.completions
      .create({ model: "ollama-down", messages }, { headers: { "x-request-id": "oc-down" } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe("upstream_unreachable");
    const row = await recordOf(proxy, "oc-down");
    expect(row).toMatchObject({ status: "error", http_status: 502 });
  });

  it("a model that is not pulled: Ollama's 404 becomes an OpenAI 404 model_not_found naming the pulled models", async () => {
    const error = await client.chat.completions
      .create({ model: "ollama-missing", messages, stream: true }, { headers: { "x-request-id": "oc-404" } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    const apiError = error as InstanceType<typeof OpenAI.NotFoundError>;
    expect(apiError.code).toBe("model_not_found");
    expect(apiError.message).toMatch(/'mistral' is not on the Ollama server/);
    expect(apiError.message).toMatch(/ollama pull mistral/);
    expect(apiError.message).toMatch(/llama3\.2:latest, tiny-ctx:latest/);
    const row = await recordOf(proxy, "oc-404");
    expect(row).toMatchObject({ status: "error", http_status: 404 });
  });

  it("images given as base64 data URLs go to message.images", async () => {
    await client.chat.completions.create({
      model: "ollama",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          ],
        },
      ],
    });
    expect(fake.requestsTo("/api/chat").at(-1)!.body.messages).toEqual([
      { role: "user", content: "What is this?", images: ["iVBORw0KGgo="] },
    ]);
  });
});

describe("ollama tool calls", () => {
  const tools: OpenAI.ChatCompletionTool[] = [
    {
      type: "function",
      function: {
        name: "get_weather",
        description: "Get the weather in a given city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
    },
  ];
  const history: OpenAI.ChatCompletionMessageParam[] = [
    { role: "user", content: "what is the weather in Toronto?" },
    {
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Toronto"}' } },
      ],
    },
    { role: "tool", tool_call_id: "call_1", content: "11 degrees celsius" },
    { role: "user", content: "and in Tokyo?" },
  ];

  it("OpenAI tool calls and results reach Ollama in its shape; its tool call comes back as an OpenAI one (non-streaming)", async () => {
    fake.behave({ kind: "ok", toolCall: true });
    const completion = await client.chat.completions.create(
      { model: "ollama", messages: history, tools },
      { headers: { "x-request-id": "oc-tools" } },
    );
    const sent = fake.requestsTo("/api/chat").at(-1)!.body;
    expect(sent.tools).toEqual(tools);
    expect(sent.messages).toEqual([
      { role: "user", content: "what is the weather in Toronto?" },
      {
        role: "assistant",
        content: "",
        tool_calls: [{ type: "function", function: { index: 0, name: "get_weather", arguments: { city: "Toronto" } } }],
      },
      { role: "tool", content: "11 degrees celsius", tool_name: "get_weather" },
      { role: "user", content: "and in Tokyo?" },
    ]);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.type).toBe("function");
    expect(call.id).toMatch(/^call_/);
    expect(call.function).toEqual({ name: "get_weather", arguments: '{"city":"Tokyo"}' });
    const row = await recordOf(proxy, "oc-tools");
    expect(row).toMatchObject({ status: "ok", finish_reason: "tool_calls" });
    expect(row.response_json).toContain("get_weather");
  });

  it("a streamed tool call arrives as a tool_calls delta with finish_reason tool_calls", async () => {
    fake.behave({ kind: "ok", toolCall: true });
    const stream = await client.chat.completions.create({
      model: "ollama",
      messages: history,
      tools,
      stream: true,
      stream_options: { include_usage: true },
    });
    const calls: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      calls.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      index: 0,
      type: "function",
      function: { name: "get_weather", arguments: '{"city":"Tokyo"}' },
    });
    expect(finish).toBe("tool_calls");
    expect(usage).toEqual({
      prompt_tokens: TOOL_COUNTS.prompt,
      completion_tokens: TOOL_COUNTS.completion,
      total_tokens: TOOL_COUNTS.prompt + TOOL_COUNTS.completion,
    });
  });
});
