/**
 * Ollama's native API served by llm-relay (issue 20, item 1), with the real
 * `ollama` npm client as the client over real HTTP on loopback: chat (JSON
 * and NDJSON), generate, embed, list, show, ps, version, to `echo` and to an
 * OpenAI-compatible fake; errors as `{"error": "<string>"}` that the client's
 * `ResponseError` prints; the root probe; keys and rate limits on the billed routes.
 */
import { Ollama, type ChatResponse, type GenerateResponse } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordedExchanges, send } from "../helpers/exchanges.js";
import { fakeVector, startFakeEmbeddings, TOKENS_PER_INPUT, type FakeEmbeddings } from "../helpers/fake-embeddings.js";
import { DEFAULT_TEXT, DEFAULT_USAGE, startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";

let fake: FakeUpstream;
let embeddings: FakeEmbeddings;
let proxy: TestProxy;
let client: Ollama;

beforeAll(async () => {
  fake = await startFakeUpstream();
  embeddings = await startFakeEmbeddings();
  proxy = await startTestProxy({
    defaultModel: null,
    models: {
      chat: fakeDeployment(fake.baseUrl, { model: "upstream-chat", context_window: 8192 }),
      embed: fakeDeployment(embeddings.baseUrl, { model: "upstream-embed" }),
    },
  });
  client = new Ollama({ host: proxy.url });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
  await embeddings.close();
});

/** Every object of a streamed answer, in order. */
async function collect<T extends object>(stream: AsyncIterable<T>): Promise<T[]> {
  const parts: T[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

/** Checks the counts and the nanosecond durations of a last (`done: true`) object. */
function expectDoneMetrics(done: ChatResponse | GenerateResponse, counts: { prompt: number; eval: number }): void {
  expect(done.done).toBe(true);
  expect(done.prompt_eval_count).toBe(counts.prompt);
  expect(done.eval_count).toBe(counts.eval);
  for (const field of ["total_duration", "load_duration", "prompt_eval_duration", "eval_duration"] as const) {
    expect(Number.isInteger(done[field]), field).toBe(true);
    expect(done[field], field).toBeGreaterThanOrEqual(0);
  }
  expect(done.total_duration).toBeGreaterThanOrEqual(done.prompt_eval_duration + done.eval_duration - 1);
  // Nanoseconds: a request on loopback takes well under a minute, and more than a microsecond.
  expect(done.total_duration).toBeLessThan(60e9);
}

describe("to echo", () => {
  it("chat, not streamed: the last user message back, with counts and durations", async () => {
    const answer = await client.chat({
      model: "echo",
      stream: false,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "hello there" },
      ],
    });
    expect(answer.model).toBe("echo");
    expect(answer.message).toEqual({ role: "assistant", content: "hello there" });
    expect(answer.done_reason).toBe("stop");
    expect(new Date(answer.created_at).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expectDoneMetrics(answer, { prompt: answer.prompt_eval_count, eval: 2 });
    expect(answer.prompt_eval_count).toBeGreaterThan(2);
  });

  it("chat, streamed (Ollama's default): word pieces, then one done object with counts", async () => {
    const parts = await collect(
      await client.chat({ model: "echo", stream: true, messages: [{ role: "user", content: "one two three" }] }),
    );
    expect(parts.length).toBe(4);
    expect(parts.slice(0, -1).every((part) => !part.done)).toBe(true);
    expect(parts.map((part) => part.message.content).join("")).toBe("one two three");
    const last = parts.at(-1)!;
    expect(last.message).toEqual({ role: "assistant", content: "" });
    expect(last.done_reason).toBe("stop");
    expectDoneMetrics(last, { prompt: last.prompt_eval_count, eval: 3 });
  });

  it("a body without stream is answered as NDJSON", async () => {
    const answer = await send(`${proxy.url}/api/chat`, {
      body: { model: "echo", messages: [{ role: "user", content: "ping pong" }] },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    const lines = answer.text
      .trimEnd()
      .split("\n")
      .map((text) => JSON.parse(text) as ChatResponse);
    expect(lines.map((line) => line.done)).toEqual([false, false, true]);
    expect(lines.at(-1)!.eval_count).toBe(2);
  });

  it("generate, not streamed and streamed: the prompt as the user turn, system as the system turn", async () => {
    const answer = await client.generate({ model: "echo", prompt: "raw words", system: "You echo." });
    expect(answer).toMatchObject({ model: "echo", response: "raw words", done: true, done_reason: "stop" });
    expectDoneMetrics(answer, { prompt: answer.prompt_eval_count, eval: 2 });
    const parts = await collect(await client.generate({ model: "echo", prompt: "a b c", stream: true }));
    expect(parts.map((part) => part.response).join("")).toBe("a b c");
    expect(parts.at(-1)).toMatchObject({ done: true, response: "", eval_count: 3 });
  });

  it("embed: echo has no embeddings, a 400 whose string the client prints", async () => {
    const error = await client.embed({ model: "echo", input: "x" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "ResponseError", status_code: 400 });
    expect((error as Error).message).toMatch(/'echo' deployment, which does not support embeddings/);
  });
});

describe("to an OpenAI-compatible upstream", () => {
  it("chat, not streamed: the upstream's answer and usage", async () => {
    fake.behave({ kind: "ok" });
    const before = fake.requests.length;
    const answer = await client.chat({ model: "chat", messages: [{ role: "user", content: "Tell me" }] });
    expect(answer.message).toEqual({ role: "assistant", content: DEFAULT_TEXT });
    expectDoneMetrics(answer, { prompt: DEFAULT_USAGE.prompt_tokens, eval: DEFAULT_USAGE.completion_tokens });
    const sent = fake.requests[before]!.body;
    expect(sent).toMatchObject({ model: "upstream-chat", messages: [{ role: "user", content: "Tell me" }] });
    expect(sent.stream).toBeUndefined();
  });

  it("chat, streamed: pieces as they come, the done object with the upstream's counts and TTFT split", async () => {
    fake.behave({ kind: "ok", chunkCount: 6, chunkDelayMs: 10 });
    const parts = await collect(
      await client.chat({ model: "chat", stream: true, messages: [{ role: "user", content: "Tell me" }] }),
    );
    fake.behave({ kind: "ok" });
    expect(parts.map((part) => part.message.content).join("")).toBe(DEFAULT_TEXT);
    const last = parts.at(-1)!;
    expectDoneMetrics(last, { prompt: DEFAULT_USAGE.prompt_tokens, eval: DEFAULT_USAGE.completion_tokens });
    // Six pieces 10 ms apart: the generation (after the first piece) took at least 40 ms.
    expect(last.eval_duration).toBeGreaterThanOrEqual(40e6);
    expect(fake.requests.at(-1)!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("logprobs: asked for as chat's fields, answered as Ollama's, not streamed and streamed", async () => {
    const content = [
      {
        token: "Hi",
        logprob: -0.25,
        bytes: [72, 105],
        top_logprobs: [
          { token: "Hi", logprob: -0.25, bytes: [] },
          { token: "Yo", logprob: -1.5, bytes: [] },
        ],
      },
      { token: "!", logprob: -0.5, bytes: [33], top_logprobs: [{ token: "!", logprob: -0.5, bytes: [] }] },
    ];
    const expected = [
      {
        token: "Hi",
        logprob: -0.25,
        top_logprobs: [
          { token: "Hi", logprob: -0.25 },
          { token: "Yo", logprob: -1.5 },
        ],
      },
      { token: "!", logprob: -0.5, top_logprobs: [{ token: "!", logprob: -0.5 }] },
    ];
    const choice = {
      index: 0,
      message: { role: "assistant", content: "Hi!" },
      finish_reason: "stop",
      logprobs: { content },
    };
    fake.enqueue({
      kind: "status",
      status: 200,
      body: JSON.stringify({
        id: "c1",
        object: "chat.completion",
        created: 1,
        model: "m",
        choices: [choice],
        usage: DEFAULT_USAGE,
      }),
    });
    const answer = await client.chat({
      model: "chat",
      logprobs: true,
      top_logprobs: 2,
      messages: [{ role: "user", content: "greet" }],
    });
    expect(answer.message.content).toBe("Hi!");
    expect(answer.logprobs).toEqual(expected);
    expect(fake.requests.at(-1)!.body).toMatchObject({ logprobs: true, top_logprobs: 2 });

    const event = (delta: Record<string, unknown>, logprobs: unknown, finish: string | null) =>
      `data: ${JSON.stringify({ id: "c2", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, logprobs, finish_reason: finish }] })}\n\n`;
    fake.enqueue({
      kind: "status",
      status: 200,
      headers: { "content-type": "text/event-stream" },
      body:
        event({ role: "assistant", content: "Hi" }, { content: [content[0]] }, null) +
        event({ content: "!" }, { content: [content[1]] }, null) +
        event({}, null, "stop") +
        "data: [DONE]\n\n",
    });
    const parts: GenerateResponse[] = [];
    for await (const part of await client.generate({ model: "chat", prompt: "greet", stream: true, logprobs: true }))
      parts.push(part);
    expect(parts.map((part) => part.response).join("")).toBe("Hi!");
    expect(parts.flatMap((part) => part.logprobs ?? [])).toEqual(expected);
    expect(fake.requests.at(-1)!.body).toMatchObject({ logprobs: true });
    expect(fake.requests.at(-1)!.body).not.toHaveProperty("top_logprobs");
  });

  it("generate: system and prompt as two chat turns", async () => {
    const before = fake.requests.length;
    const answer = await client.generate({ model: "chat", prompt: "Why?", system: "Answer briefly." });
    expect(answer.response).toBe(DEFAULT_TEXT);
    expect(fake.requests[before]!.body.messages).toEqual([
      { role: "system", content: "Answer briefly." },
      { role: "user", content: "Why?" },
    ]);
  });

  it("embed and embeddings: the upstream's vectors in Ollama's shapes", async () => {
    const before = embeddings.requests.length;
    const answer = await client.embed({ model: "embed", input: ["first", "second"], dimensions: 3, truncate: true });
    expect(answer.model).toBe("embed");
    expect(answer.embeddings).toEqual([fakeVector(0, 3), fakeVector(1, 3)]);
    expect(answer.prompt_eval_count).toBe(2 * TOKENS_PER_INPUT);
    expect(Number.isInteger(answer.total_duration)).toBe(true);
    expect(embeddings.requests[before]!.body).toEqual({
      model: "upstream-embed",
      input: ["first", "second"],
      dimensions: 3,
    });
    const legacy = await client.embeddings({ model: "embed", prompt: "only" });
    expect(legacy).toEqual({ embedding: fakeVector(0) });
    expect(embeddings.requests.at(-1)!.body).toEqual({ model: "upstream-embed", input: "only" });
  });
});

describe("load and unload requests", () => {
  it("are answered at once (no exchange, nothing recorded); 404 for a model nothing routes", async () => {
    const before = (await recordedExchanges(proxy)).length;
    const loaded = await client.chat({ model: "echo", messages: [] });
    expect(loaded).toMatchObject({ model: "echo", message: { role: "assistant", content: "" }, done: true });
    expect(loaded.done_reason).toBe("load");
    const unloaded = await client.generate({ model: "chat", prompt: "", keep_alive: 0 });
    expect(unloaded).toMatchObject({ model: "chat", response: "", done: true, done_reason: "unload" });
    const streamed = await send(`${proxy.url}/api/chat`, { body: { model: "echo" } });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect(streamed.text.endsWith("}\n")).toBe(true);
    expect(streamed.json).toMatchObject({ done: true, done_reason: "load" });
    const missing = await client.chat({ model: "nope", messages: [] }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: "ResponseError", status_code: 404 });
    expect((await recordedExchanges(proxy)).length).toBe(before);
  });
});

describe("models, version, probe", () => {
  it("list and ps name the models GET /v1/models lists", async () => {
    const openai = (await send(`${proxy.baseURL}/models`)).json as { data: { id: string }[] };
    const ids = openai.data.map((model) => model.id);
    expect(ids).toEqual(expect.arrayContaining(["echo", "chat", "embed"]));
    const list = await client.list();
    expect(list.models.map((model) => model.name)).toEqual(ids);
    expect(list.models.map((model) => model.model)).toEqual(ids);
    const chat = list.models.find((model) => model.name === "chat")!;
    expect(chat.details.family).toBe("openai-compatible");
    expect(chat.digest).toMatch(/^[0-9a-f]{64}$/);
    const ps = await client.ps();
    expect(ps.models.map((model) => model.name)).toEqual(ids);
    expect(new Date(ps.models[0]!.expires_at).getTime()).toBeGreaterThan(Date.now());
  });

  it("show: details and capabilities of a routable model; 404 for one nothing routes", async () => {
    const chat = await client.show({ model: "chat" });
    expect(chat.details.family).toBe("openai-compatible");
    expect(chat.capabilities).toEqual(expect.arrayContaining(["completion", "tools", "embedding"]));
    // Where clients such as Continue read the context window.
    expect(chat.model_info).toMatchObject({
      "general.architecture": "openai-compatible",
      "openai-compatible.context_length": 8192,
    });
    const echo = await client.show({ model: "echo" });
    expect(echo.capabilities).not.toContain("embedding");
    const missing = await client.show({ model: "no-such-model" }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: "ResponseError", status_code: 404 });
    expect((missing as Error).message).toMatch(/'no-such-model' does not exist/);
  });

  it("version, and GET / and HEAD / answer as Ollama does", async () => {
    expect((await client.version()).version).toMatch(/^\d+\.\d+\.\d+$/);
    const root = await send(`${proxy.url}/`);
    expect(root.status).toBe(200);
    expect(root.text).toBe("Ollama is running");
    const head = await fetch(`${proxy.url}/`, { method: "HEAD" });
    expect(head.status).toBe(200);
  });
});

describe("errors", () => {
  it("an unknown model: 404 and the client's ResponseError message is the string", async () => {
    const error = await client
      .chat({ model: "nope", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "ResponseError", status_code: 404 });
    expect(String(error)).toMatch(/^ResponseError: The model 'nope' does not exist/);
    const raw = await send(`${proxy.url}/api/generate`, { body: { model: "nope", prompt: "x" } });
    expect(raw.status).toBe(404);
    expect(Object.keys(raw.json as object)).toEqual(["error"]);
    expect((raw.json as { error: unknown }).error).toBeTypeOf("string");
  });

  it("a bad body: 400 naming the field, and the server keeps serving", async () => {
    const cases: [unknown, RegExp][] = [
      [{ messages: [{ role: "user", content: "x" }] }, /^model is required$/],
      [{ model: "echo", messages: [{ role: "robot", content: "x" }] }, /^messages\.0\.role: /],
      [{ model: "echo", messages: "hi" }, /^messages: /],
      [{ model: "echo", messages: [{ role: "user", content: "x" }], format: "xml" }, /^format: expected "json"/],
      [
        { model: "echo", messages: [{ role: "user", content: "x" }], options: { temperature: "hot" } },
        /^options\.temperature: /,
      ],
    ];
    for (const [body, message] of cases) {
      const answer = await send(`${proxy.url}/api/chat`, { body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      const error = answer.json as { error: unknown };
      expect(Object.keys(error)).toEqual(["error"]);
      expect(error.error).toMatch(message);
    }
    const suffix = await client
      .generate({ model: "echo", prompt: "def f(", suffix: "return x" })
      .catch((e: unknown) => e);
    expect(suffix).toMatchObject({ name: "ResponseError", status_code: 400 });
    expect((suffix as Error).message).toMatch(/^suffix: fill-in-the-middle/);
    const notJson = await send(`${proxy.url}/api/chat`, { body: "{nope" });
    expect(notJson.status).toBe(400);
    expect((notJson.json as { error: unknown }).error).toBeTypeOf("string");
    expect(
      (await client.chat({ model: "echo", messages: [{ role: "user", content: "still here" }] })).message.content,
    ).toBe("still here");
  });
});

describe("keys on the Ollama routes", () => {
  let keyed: TestProxy;
  beforeAll(async () => {
    keyed = await startTestProxy({ defaultModel: null });
  });
  afterAll(async () => {
    await keyed.close();
  });

  it("no key is a 401, a key's rpm limit a 429 (the generation routes are billed), each as an Ollama error", async () => {
    const { plaintext } = await keyed.server.ctx.tenancy.keys.create({ tenant: "acme", rpm: 1 });
    const anonymous = new Ollama({ host: keyed.url });
    const refused = await anonymous
      .chat({ model: "echo", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: "ResponseError", status_code: 401 });
    const withKey = new Ollama({ host: keyed.url, headers: { Authorization: `Bearer ${plaintext}` } });
    const first = await withKey.generate({ model: "echo", prompt: "once" });
    expect(first.response).toBe("once");
    const second = await withKey.generate({ model: "echo", prompt: "twice" }).catch((e: unknown) => e);
    expect(second).toMatchObject({ name: "ResponseError", status_code: 429 });
    expect((second as Error).message).toMatch(/\S/);
    // The model endpoints need the key too, but are not billed.
    expect((await withKey.list()).models.map((model) => model.name)).toContain("echo");
  });
});
