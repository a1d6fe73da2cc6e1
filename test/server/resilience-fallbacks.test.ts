/**
 * Fallbacks and cooldown, end to end over real HTTP with several fake
 * upstreams: a model's `fallbacks` are tried in order once its own
 * attempts failed; a 400 `context_length_exceeded` goes to its
 * `context_window_fallbacks` (and is answered as is without them); an
 * upstream asking to wait longer than `retry_max_ms` sends the request to
 * the fallback at once; a deployment that failed `allowed_fails` times
 * gets no traffic while it cools down, and gets some again afterwards.
 * The record says which deployment answered; every attempt is recorded.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_TEXT, startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { chat, chatBody, openAIError, recordedExchange } from "../helpers/exchanges.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";
import { group, recordedAttempts, routing, routingHeaders } from "./resilience-helpers.js";

/** OpenAI's answer to a prompt over the context window (its documented error code). */
const CONTEXT_BODY =
  '{"error":{"message":"This model\'s maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}';
const OVERLOADED_BODY =
  '{"error":{"message":"The server is overloaded","type":"server_error","param":null,"code":null}}';
const SERVER_ERROR_BODY = '{"error":{"message":"Internal failure","type":"server_error","param":null,"code":null}}';
const RATE_LIMIT_BODY =
  '{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}';

let primary: FakeUpstream;
let first: FakeUpstream;
let second: FakeUpstream;
let big: FakeUpstream;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  [primary, first, second, big] = await Promise.all([
    startFakeUpstream(),
    startFakeUpstream(),
    startFakeUpstream(),
    startFakeUpstream(),
  ]);
  proxy = await startTestProxy({
    models: {
      chain: group("chain", [fakeDeployment(primary.baseUrl, { model: "primary-8k" })], {
        fallbacks: ["fb-one", "fb-two"],
        contextWindowFallbacks: ["big"],
      }),
      plain: group("plain", [fakeDeployment(primary.baseUrl)], { fallbacks: ["fb-one"] }),
      patient: group("patient", [fakeDeployment(primary.baseUrl)], { numRetries: 3, fallbacks: ["fb-one"] }),
      "fb-one": fakeDeployment(first.baseUrl),
      "fb-two": fakeDeployment(second.baseUrl, { model: "second-upstream-model" }),
      big: fakeDeployment(big.baseUrl, { model: "big-128k" }),
    },
    routing: routing({ retry_base_ms: 20, retry_max_ms: 2_000 }),
    defaultModel: null,
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy?.close();
  await Promise.all([primary, first, second, big].map((fake) => fake?.close()));
});
beforeEach(() => {
  for (const fake of [primary, first, second, big]) fake.behave({ kind: "ok" });
});

/** Request counts of the four upstreams. */
function counts() {
  return {
    primary: primary.requests.length,
    first: first.requests.length,
    second: second.requests.length,
    big: big.requests.length,
  };
}

/** One SDK request: the text and the response headers. */
async function ask(model: string, stream: boolean, requestId: string) {
  const messages = [{ role: "user" as const, content: "Summarise this long document" }];
  const options = { headers: { "x-request-id": requestId } };
  if (stream) {
    const { data, response } = await client.chat.completions
      .create({ model, messages, stream: true }, options)
      .withResponse();
    let text = "";
    for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? "";
    return { text, headers: response.headers };
  }
  const { data, response } = await client.chat.completions.create({ model, messages }, options).withResponse();
  return { text: data.choices[0]!.message.content ?? "", headers: response.headers };
}

describe.each([false, true])("fallbacks, stream: %s", (stream) => {
  const tag = stream ? "stream" : "json";

  it("tries the fallbacks in order; the record and the headers name the one that answered", async () => {
    primary.behave({ kind: "status", status: 500, body: SERVER_ERROR_BODY });
    first.behave({ kind: "status", status: 503, body: OVERLOADED_BODY });
    const before = counts();
    const answer = await ask("chain", stream, `order-${tag}`);

    expect(answer.text).toBe(DEFAULT_TEXT);
    expect(routingHeaders(answer.headers)).toEqual({ deployment: "fb-two", attempts: "3" });
    expect(counts()).toEqual({
      ...before,
      primary: before.primary + 1,
      first: before.first + 1,
      second: before.second + 1,
    });
    expect(second.requests.at(-1)!.body.model).toBe("second-upstream-model");

    expect(await recordedAttempts(proxy, `order-${tag}`)).toMatchObject([
      {
        attempt: 1,
        model: "chain",
        deployment: "chain",
        upstream_model: "primary-8k",
        status: "error",
        http_status: 500,
        error: "Internal failure",
      },
      {
        attempt: 2,
        model: "fb-one",
        deployment: "fb-one",
        upstream_model: "fb-one",
        status: "error",
        http_status: 503,
        error: "The server is overloaded",
      },
      {
        attempt: 3,
        model: "fb-two",
        deployment: "fb-two",
        upstream_model: "second-upstream-model",
        status: "ok",
        http_status: 200,
      },
    ]);
    // responses.model keeps the name the client asked for; our columns say who answered.
    expect(await recordedExchange(proxy, `order-${tag}`)).toMatchObject({
      model: "chain",
      status: "ok",
      deployment: "fb-two",
      provider: "openai-compatible",
      upstream_model: "second-upstream-model",
      resolved_model: "second-upstream-model",
    });
  });

  it("sends a context_length_exceeded to context_window_fallbacks, not to the ordinary fallbacks", async () => {
    primary.behave({ kind: "status", status: 400, body: CONTEXT_BODY });
    const before = counts();
    const answer = await ask("chain", stream, `ctx-${tag}`);

    expect(answer.text).toBe(DEFAULT_TEXT);
    expect(routingHeaders(answer.headers)).toEqual({ deployment: "big", attempts: "2" });
    expect(counts()).toEqual({ ...before, primary: before.primary + 1, big: before.big + 1 });
    expect(big.requests.at(-1)!.body.model).toBe("big-128k");
    expect(await recordedAttempts(proxy, `ctx-${tag}`)).toMatchObject([
      { model: "chain", status: "error", http_status: 400 },
      { model: "big", deployment: "big", upstream_model: "big-128k", status: "ok" },
    ]);
  });
});

describe("what is not fallen back from", () => {
  it("answers a context_length_exceeded as is when the model has no context_window_fallbacks", async () => {
    primary.behave({ kind: "status", status: 400, body: CONTEXT_BODY });
    const before = counts();
    const answer = await chat(proxy, chatBody("plain"), { "x-request-id": "ctx-none" });

    expect(answer.status).toBe(400);
    expect(openAIError(answer)).toMatchObject({ code: "context_length_exceeded", param: "messages" });
    expect(routingHeaders(answer.headers)).toEqual({ deployment: "plain", attempts: "1" });
    expect(counts()).toEqual({ ...before, primary: before.primary + 1 });
  });

  it("answers a client error (401) without trying the fallbacks", async () => {
    primary.behave({
      kind: "status",
      status: 401,
      body: '{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}',
    });
    const before = counts();
    const answer = await chat(proxy, chatBody("chain", { stream: true }), { "x-request-id": "auth" });

    expect(answer.status).toBe(401);
    expect(counts()).toEqual({ ...before, primary: before.primary + 1 });
    expect(await recordedAttempts(proxy, "auth")).toHaveLength(1);
  });

  it("answers the last fallback's error when every model failed", async () => {
    primary.behave({ kind: "status", status: 500, body: SERVER_ERROR_BODY });
    first.behave({ kind: "status", status: 503, body: OVERLOADED_BODY });
    second.behave({
      kind: "status",
      status: 502,
      body: '{"error":{"message":"Bad gateway upstream","type":"server_error","param":null,"code":null}}',
    });
    const answer = await chat(proxy, chatBody("chain"), { "x-request-id": "all-failed" });

    expect(answer.status).toBe(502);
    expect(openAIError(answer).message).toBe("Bad gateway upstream");
    expect(routingHeaders(answer.headers)).toEqual({ deployment: "fb-two", attempts: "3" });
    expect(await recordedExchange(proxy, "all-failed")).toMatchObject({
      status: "error",
      http_status: 502,
      deployment: "fb-two",
    });
  });
});

describe("a Retry-After longer than retry_max_ms", () => {
  it("goes to the fallback at once instead of waiting or retrying the same deployment", async () => {
    // A day: a proxy that honoured it (before a retry or before the fallback) would never answer within the test.
    primary.behave({ kind: "status", status: 429, body: RATE_LIMIT_BODY, headers: { "Retry-After": "86400" } });
    const before = counts();
    const answer = await ask("patient", false, "ra-long");

    expect(answer.text).toBe(DEFAULT_TEXT);
    // Two attempts although `patient` allows 3 retries: the deployment that asked to wait was not tried again.
    expect(routingHeaders(answer.headers)).toEqual({ deployment: "fb-one", attempts: "2" });
    expect(counts()).toEqual({ ...before, primary: before.primary + 1, first: before.first + 1 });
    expect(await recordedAttempts(proxy, "ra-long")).toMatchObject([
      { model: "patient", status: "error", http_status: 429 },
      { model: "fb-one", status: "ok" },
    ]);
    expect(await recordedExchange(proxy, "ra-long")).toMatchObject({ status: "ok", deployment: "fb-one" });
  });
});

describe("cooldown", () => {
  const COOLDOWN_MS = 4_000;
  let bad: FakeUpstream;
  let good: FakeUpstream;
  let pair: TestProxy;

  beforeAll(async () => {
    [bad, good] = await Promise.all([
      startFakeUpstream({ kind: "status", status: 500, body: SERVER_ERROR_BODY }),
      startFakeUpstream(),
    ]);
    pair = await startTestProxy({
      models: { pair: group("pair", [fakeDeployment(bad.baseUrl), fakeDeployment(good.baseUrl)], { numRetries: 1 }) },
      routing: routing({ retry_base_ms: 10, allowed_fails: 2, fail_window_ms: 60_000, cooldown_ms: COOLDOWN_MS }),
      defaultModel: null,
    });
  });
  afterAll(async () => {
    await pair?.close();
    await Promise.all([bad?.close(), good?.close()]);
  });

  it("leaves a deployment out while it cools down after allowed_fails failures, then tries it again", async () => {
    // Until the bad deployment has failed twice, a request may land on it (and be retried on the good one).
    for (let i = 0; bad.requests.length < 2; i++) {
      expect(i, "the bad deployment was never picked").toBeLessThan(200);
      const answer = await chat(pair, chatBody("pair"), { "x-request-id": `warm-${i}` });
      expect(answer.status).toBe(200);
    }
    // While it cools down, every request goes to the good one, first time. (Were the cooldown over, or not
    // kept, the balancer's two-card deck would give the bad one at least one of any three requests: this fails.)
    const goodBefore = good.requests.length;
    for (let i = 0; i < 20; i++) {
      const answer = await chat(pair, chatBody("pair", { stream: i % 2 === 1 }), { "x-request-id": `cool-${i}` });
      expect(answer.status).toBe(200);
      expect(routingHeaders(answer.headers), `cool-${i}`).toEqual({ deployment: "pair#2", attempts: "1" });
    }
    expect(bad.requests).toHaveLength(2);
    expect(good.requests.length).toBe(goodBefore + 20);
    expect(await recordedAttempts(pair, "cool-19")).toMatchObject([{ deployment: "pair#2", status: "ok" }]);

    // Once the cooldown is over, the bad deployment gets requests again (and they are retried on the good one).
    // One request per check: each answered by the good one, first time, until one reaches the bad one.
    const after: string[] = [];
    await until(
      () => `the bad deployment to get traffic again (${after.length} requests since the 20 above)`,
      async () => {
        const id = `after-${after.length}`;
        after.push(id);
        const answer = await chat(pair, chatBody("pair"), { "x-request-id": id });
        expect(answer.status, id).toBe(200);
        const reachedBad = bad.requests.length > 2;
        expect(routingHeaders(answer.headers), id).toEqual({ deployment: "pair#2", attempts: reachedBad ? "2" : "1" });
        return reachedBad;
      },
      { timeoutMs: COOLDOWN_MS + 10_000, everyMs: 100 },
    );
    expect(bad.requests).toHaveLength(3);
    expect(await recordedAttempts(pair, after.at(-1)!)).toMatchObject([
      { deployment: "pair#1", status: "error", http_status: 500 },
      { deployment: "pair#2", status: "ok" },
    ]);
  });
});
