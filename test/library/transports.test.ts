/**
 * Both transports — in-process (`createClient({ config })`) and HTTP to a
 * running llm-relay (`createClient({ baseURL })`) — against `echo` and the
 * loopback fake upstream: success, upstream 500, timeout, abort mid-stream,
 * bad LLM_TEMPERATURE, unknown model, invalid arguments. No call rejects.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClient, type CompletionOptions, type LLMClient, type LLMResponse } from "../../src/index.js";
import { DEFAULT_TEXT, startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { expectWellFormed, libraryConfig, settled, tempDb } from "./library-helpers.js";

let upstream: FakeUpstream;
let proxy: TestProxy;
const db = tempDb();

beforeAll(async () => {
  upstream = await startFakeUpstream();
  proxy = await startTestProxy({ defaultModel: null, models: { fake: fakeDeployment(upstream.baseUrl) } });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
  db.remove();
});
afterEach(() => upstream.behave({ kind: "ok" }));

type Make = (env?: Record<string, string>) => LLMClient;
const transports: [string, Make][] = [
  [
    "in-process",
    (env = {}) => createClient({ config: libraryConfig(db.dbPath, { fake: fakeDeployment(upstream.baseUrl) }), env }),
  ],
  ["http", (env = {}) => createClient({ baseURL: proxy.baseURL, env })],
];

/** Streams to the end (or until `stopAfter` deltas, then aborts), returning the deltas and the final answer. */
async function streamAll(
  client: LLMClient,
  prompt: string,
  options: CompletionOptions = {},
  abortAfter?: number,
): Promise<{ deltas: string[]; response: LLMResponse }> {
  const controller = new AbortController();
  const stream = client.streamCompletion(prompt, { ...options, signal: controller.signal });
  const deltas: string[] = [];
  for await (const delta of stream) {
    deltas.push(delta);
    if (abortAfter !== undefined && deltas.length >= abortAfter) controller.abort();
  }
  return { deltas, response: await settled(stream.response) };
}

describe.each(transports)("%s transport", (_name, make) => {
  let client: LLMClient;
  beforeAll(() => {
    client = make();
  });
  afterAll(() => client.close());

  it("answers with echo, non-streaming and streaming", async () => {
    const response = await settled(client.generateCompletion("Hello from the library", { model: "echo" }));
    expectWellFormed(response);
    expect(response).toMatchObject({
      success: true,
      content: "Hello from the library",
      modelUsed: "echo",
      finishReason: "stop",
    });
    expect(response.inputTokens).toBeGreaterThan(0);
    expect(response.outputTokens).toBeGreaterThan(0);
    expect(response.id).not.toBe("");

    const { deltas, response: streamed } = await streamAll(client, "one two three four", { model: "echo" });
    expect(deltas.join("")).toBe("one two three four");
    expect(deltas.length).toBeGreaterThan(1);
    expectWellFormed(streamed);
    expect(streamed).toMatchObject({ success: true, content: "one two three four", finishReason: "stop" });
    expect(streamed.outputTokens).toBeGreaterThan(0);
  });

  it("answers from the fake upstream with its usage and the default options", async () => {
    const response = await settled(
      client.generateCompletionWithMessages(
        [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hi" },
        ],
        { model: "fake" },
      ),
    );
    expectWellFormed(response);
    expect(response).toMatchObject({
      success: true,
      content: DEFAULT_TEXT,
      inputTokens: 46,
      outputTokens: 12,
      tokensUsed: 58,
      finishReason: "stop",
    });
    expect(upstream.requests.at(-1)?.body).toMatchObject({ temperature: 0.7, max_tokens: 500 });

    const { deltas, response: streamed } = await streamAll(client, "Hi", {
      model: "fake",
      temperature: 0.1,
      maxTokens: 20,
      topP: 0.5,
      stop: ["\n"],
      tenant: "team-a",
      extra: { seed: 7 },
    });
    expect(deltas.join("")).toBe(DEFAULT_TEXT);
    expect(streamed).toMatchObject({ success: true, content: DEFAULT_TEXT, inputTokens: 46, outputTokens: 12 });
    expect(upstream.requests.at(-1)?.body).toMatchObject({
      stream: true,
      temperature: 0.1,
      max_tokens: 20,
      top_p: 0.5,
      stop: ["\n"],
      user: "team-a",
      seed: 7,
      stream_options: { include_usage: true },
    });
  });

  it("reports an upstream 500, non-streaming and streaming", async () => {
    upstream.behave({
      kind: "status",
      status: 500,
      body: '{"error":{"message":"model crashed","type":"server_error"}}',
    });
    for (const response of [
      await settled(client.generateCompletion("Hi", { model: "fake" })),
      (await streamAll(client, "Hi", { model: "fake" })).response,
    ]) {
      expectWellFormed(response);
      expect(response.success).toBe(false);
      expect(response.error).toContain("500");
      expect(response.error).toContain("model crashed");
    }
  });

  it("gives up after timeoutMs", async () => {
    upstream.behave({ kind: "stall" });
    const response = await settled(client.generateCompletion("Hi", { model: "fake", timeoutMs: 300 }));
    expectWellFormed(response);
    expect(response).toMatchObject({ success: false, error: "Timed out after 300 ms" });
    expect(response.responseTime).toBeGreaterThanOrEqual(0.29);
    const streamed = (await streamAll(client, "Hi", { model: "fake", timeoutMs: 300 })).response;
    expect(streamed).toMatchObject({ success: false, error: "Timed out after 300 ms" });
  });

  it("stops a stream aborted mid-way, keeping the part received", async () => {
    upstream.behave({ kind: "ok", chunkDelayMs: 40, chunkCount: 8 });
    const fromFake = await streamAll(client, "Hi", { model: "fake" }, 2);
    expectWellFormed(fromFake.response);
    expect(fromFake.response).toMatchObject({ success: false, error: "Aborted by the caller" });
    expect(fromFake.deltas).toHaveLength(2);
    expect(fromFake.response.content.length).toBeLessThan(DEFAULT_TEXT.length);
    expect(DEFAULT_TEXT.startsWith(fromFake.response.content)).toBe(true);

    const fromEcho = await streamAll(client, "one two three four five six", { model: "echo" }, 1);
    expect(fromEcho.response).toMatchObject({ success: false, error: "Aborted by the caller" });
    expect(fromEcho.response.content.length).toBeLessThan("one two three four five six".length);
  });

  it("reports a non-numeric LLM_TEMPERATURE without calling upstream", async () => {
    const badEnv = make({ LLM_TEMPERATURE: "warm" });
    const before = upstream.requests.length;
    const response = await settled(badEnv.generateCompletion("Hi", { model: "fake" }));
    expectWellFormed(response);
    expect(response.success).toBe(false);
    expect(response.error).toBe("Invalid argument: LLM_TEMPERATURE must be a number, got 'warm'");
    const streamed = (await streamAll(badEnv, "Hi", { model: "fake" })).response;
    expect(streamed.error).toContain("LLM_TEMPERATURE");
    expect(upstream.requests.length).toBe(before);
    // An explicit temperature does not need the variable.
    expect((await settled(badEnv.generateCompletion("Hi", { model: "echo", temperature: 0 }))).success).toBe(true);
    await badEnv.close();
  });

  it("takes the model, temperature and max tokens from LLM_* variables", async () => {
    const envClient = make({ LLM_MODEL_NAME: "fake", LLM_TEMPERATURE: "0.3", LLM_MAX_TOKENS: "42" });
    const response = await settled(envClient.generateCompletion("Hi"));
    expect(response).toMatchObject({ success: true, content: DEFAULT_TEXT });
    expect(upstream.requests.at(-1)?.body).toMatchObject({ temperature: 0.3, max_tokens: 42 });
    await envClient.close();
  });

  it("reports an unknown model", async () => {
    const response = await settled(client.generateCompletion("Hi", { model: "no-such-model" }));
    expectWellFormed(response);
    expect(response).toMatchObject({ success: false, modelUsed: "no-such-model" });
    expect(response.error).toContain("404 model_not_found");
    expect((await streamAll(client, "Hi", { model: "no-such-model" })).response.error).toContain("model_not_found");
  });

  it("reports invalid arguments", async () => {
    const cases: Promise<LLMResponse>[] = [
      client.generateCompletion(42 as unknown as string),
      client.generateCompletionWithMessages([{ role: "developer" as "system", content: "x" }]),
      client.generateCompletionWithMessages([]),
      client.generateCompletion("Hi", { temperature: "hot" as unknown as number }),
      client.generateCompletion("Hi", { maxTokens: -1 }),
      client.generateCompletion("Hi", { extra: { model: "other" } }),
      client.streamCompletion({} as unknown as string).response,
    ];
    for (const response of await Promise.all(cases.map(settled))) {
      expectWellFormed(response);
      expect(response.success).toBe(false);
      expect(response.error).toMatch(/^Invalid argument: /);
    }
    expect((await settled(cases[1]!)).error).toContain("messages.0.role");
  });

  it("cancels the call when the loop leaves early", async () => {
    upstream.behave({ kind: "ok", chunkDelayMs: 40, chunkCount: 8 });
    const stream = client.streamCompletion("Hi", { model: "fake" });
    for await (const delta of stream) {
      expect(typeof delta).toBe("string");
      break;
    }
    const response = await settled(stream.response);
    expect(response.success).toBe(false);
    expect(response.error).toContain("stopped reading");
  });
});
