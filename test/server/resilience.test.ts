/**
 * Retries on one model, seen by an `openai` SDK client (maxRetries: 0, so
 * any retry is the proxy's): the fake upstream answers the first attempt
 * with a 429 + Retry-After, a 500, a hang, or a connection reset before
 * any byte, and the next one normally. The client sees only the answer;
 * `llm_relay_attempts` holds every attempt with its status, and the waits
 * between attempts follow the Retry-After. Client errors (4xx) are not
 * retried; a stream that breaks after its first chunks is not retried
 * either (the client already has them); an abort or a server stop during
 * the wait makes no further attempt.
 *
 * The waits between attempts are the test's (test/helpers/retry-waits.ts):
 * each one's length is checked, and a held wait shows that no attempt
 * starts before it ends — no test sleeps through a Retry-After.
 */
import fs from "node:fs";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { rows } from "../helpers/db.js";
import { DEFAULT_TEXT, splitText, startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { chat, chatBody, openAIError, recordedExchange, recordedExchanges } from "../helpers/exchanges.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { retryWaits } from "../helpers/retry-waits.js";
import { until } from "../helpers/until.js";
import { attemptsColumn, group, recordedAttempts, routing, routingHeaders } from "./resilience-helpers.js";

vi.mock("../../src/routing/retry-policy.js", async (importOriginal) => {
  const { retryWaits: waits } = await import("../helpers/retry-waits.js");
  return { ...(await importOriginal<typeof import("../../src/routing/retry-policy.js")>()), sleep: waits.sleep };
});

const RATE_LIMIT_BODY =
  '{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}';
const LLAMA_500_BODY =
  '{"error":{"code":500,"message":"[json.exception.out_of_range.403] key \'messages\' not found","type":"server_error"}}';
const AUTH_BODY =
  '{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}';

const FIRST_TOKEN_MS = 300;

let fake: FakeUpstream;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeUpstream();
  proxy = await startTestProxy({
    models: {
      retrying: group(
        "retrying",
        [fakeDeployment(fake.baseUrl, { first_token_timeout_ms: FIRST_TOKEN_MS, timeout_ms: 5_000 })],
        { numRetries: 2 },
      ),
    },
    routing: routing({ retry_base_ms: 50, retry_max_ms: 3_000 }),
    defaultModel: null,
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy?.close();
  await fake?.close();
});
beforeEach(() => {
  fake.behave({ kind: "ok" });
  retryWaits.reset();
});
// A test that failed while a wait was held must not leave its request hanging over the next ones.
afterEach(() => {
  for (const wait of retryWaits.asked) wait.release();
});

/** Resolves once the exchange with this request id is recorded: its dispatch is over, no attempt can follow. */
async function exchangeOver(p: TestProxy, requestId: string): Promise<void> {
  await until(`the exchange ${requestId} recorded`, async () =>
    (await recordedExchanges(p)).some((row) => row.request_id === requestId),
  );
}

/** One request through the SDK: the text and the routing headers. */
async function ask(stream: boolean, requestId: string, signal?: AbortSignal) {
  const options = { headers: { "x-request-id": requestId }, ...(signal ? { signal } : {}) };
  const messages = [{ role: "user" as const, content: "Tell me a story" }];
  let text = "";
  let headers: Headers;
  if (stream) {
    const { data, response } = await client.chat.completions
      .create({ model: "retrying", messages, stream: true }, options)
      .withResponse();
    headers = response.headers;
    for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? "";
  } else {
    const { data, response } = await client.chat.completions
      .create({ model: "retrying", messages }, options)
      .withResponse();
    headers = response.headers;
    text = data.choices[0]!.message.content ?? "";
  }
  return { text, headers };
}

describe.each([false, true])("a failed first attempt is retried on the same model, stream: %s", (stream) => {
  const tag = stream ? "stream" : "json";

  it("waits for a 429's Retry-After (1 s), then answers; both attempts recorded", async () => {
    fake.enqueue({ kind: "status", status: 429, body: RATE_LIMIT_BODY, headers: { "Retry-After": "1" } });
    const before = fake.requests.length;
    retryWaits.mode = "held";
    const pending = ask(stream, `ra-${tag}`);
    await until("the wait after the 429", () => retryWaits.asked.length === 1);
    // The wait is the Retry-After, and no second attempt starts before it ends.
    expect(retryWaits.asked[0]!.ms).toBe(1_000);
    expect(fake.requests.length).toBe(before + 1);
    retryWaits.asked[0]!.release();
    const answer = await pending;

    expect(answer.text).toBe(DEFAULT_TEXT);
    expect(routingHeaders(answer.headers)).toEqual({ deployment: "retrying", attempts: "2" });
    expect(answer.headers.get("retry-after")).toBeNull();
    expect(fake.requests.length).toBe(before + 2);
    expect(retryWaits.asked.map((w) => w.state)).toEqual(["released"]);

    const attempts = await recordedAttempts(proxy, `ra-${tag}`);
    expect(attempts).toMatchObject([
      {
        attempt: 1,
        model: "retrying",
        deployment: "retrying",
        provider: "openai-compatible",
        upstream_model: "retrying",
        status: "error",
        http_status: 429,
        error: "Rate limit reached",
      },
      { attempt: 2, model: "retrying", deployment: "retrying", status: "ok", http_status: 200, error: null },
    ]);
    expect(attemptsColumn(proxy.dbPath, `ra-${tag}`)).toBe(2);
    expect(await recordedExchange(proxy, `ra-${tag}`)).toMatchObject({
      status: "ok",
      http_status: 200,
      deployment: "retrying",
      model: "retrying",
    });
  });

  it("retries a 500 after a backoff below retry_base_ms", async () => {
    fake.enqueue({ kind: "status", status: 500, body: LLAMA_500_BODY });
    const answer = await ask(stream, `500-${tag}`);

    expect(answer.text).toBe(DEFAULT_TEXT);
    expect(routingHeaders(answer.headers).attempts).toBe("2");
    const attempts = await recordedAttempts(proxy, `500-${tag}`);
    expect(attempts).toMatchObject([
      { status: "error", http_status: 500, error: "[json.exception.out_of_range.403] key 'messages' not found" },
      { status: "ok", http_status: 200 },
    ]);
    // Full jitter over [0, retry_base_ms) for the first retry: 0 to 49 ms.
    expect(retryWaits.asked).toHaveLength(1);
    expect(retryWaits.asked[0]!.ms).toBeGreaterThanOrEqual(0);
    expect(retryWaits.asked[0]!.ms).toBeLessThan(50);
  });

  it("gives up on a hung upstream after first_token_timeout_ms, aborts it, and retries", async () => {
    fake.enqueue({ kind: "stall" });
    const abortedBefore = fake.requests.filter((r) => r.aborted).length;
    const answer = await ask(stream, `hang-${tag}`);

    expect(answer.text).toBe(DEFAULT_TEXT);
    await fake.waitForAborts(abortedBefore + 1);
    const attempts = await recordedAttempts(proxy, `hang-${tag}`);
    expect(attempts).toMatchObject([
      { status: "timeout", http_status: null },
      { status: "ok", http_status: 200 },
    ]);
    expect(attempts[0]!.error).toContain(`${FIRST_TOKEN_MS} ms`);
    expect(attempts[0]!.duration_ms).toBeGreaterThanOrEqual(FIRST_TOKEN_MS - 20);
  });

  it("retries after a connection reset before any byte", async () => {
    fake.enqueue({ kind: "reset" });
    const answer = await ask(stream, `reset-${tag}`);

    expect(answer.text).toBe(DEFAULT_TEXT);
    const attempts = await recordedAttempts(proxy, `reset-${tag}`);
    expect(attempts).toMatchObject([
      { status: "unreachable", http_status: null },
      { status: "ok", http_status: 200 },
    ]);
    expect(attempts[0]!.error).toMatch(/closed the connection|ECONNRESET|UND_ERR_SOCKET/);
  });

  it("answers the last error when every attempt failed (1 + num_retries attempts), with the routing headers", async () => {
    fake.behave({
      kind: "status",
      status: 503,
      body: '{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}',
    });
    const before = fake.requests.length;
    const answer = await chat(proxy, chatBody("retrying", { stream }), { "x-request-id": `all-${tag}` });

    expect(answer.status).toBe(503);
    expect(openAIError(answer).message).toBe("overloaded");
    expect(routingHeaders(answer.headers)).toEqual({ deployment: "retrying", attempts: "3" });
    expect(fake.requests.length).toBe(before + 3);
    const attempts = await recordedAttempts(proxy, `all-${tag}`);
    expect(attempts.map((a) => [a.status, a.http_status])).toEqual([
      ["error", 503],
      ["error", 503],
      ["error", 503],
    ]);
    expect(await recordedExchange(proxy, `all-${tag}`)).toMatchObject({
      status: "error",
      http_status: 503,
      deployment: "retrying",
    });
  });

  it("does not retry a client error (401)", async () => {
    fake.enqueue({ kind: "status", status: 401, body: AUTH_BODY });
    const before = fake.requests.length;
    const answer = await chat(proxy, chatBody("retrying", { stream }), { "x-request-id": `401-${tag}` });

    expect(answer.status).toBe(401);
    expect(openAIError(answer).code).toBe("invalid_api_key");
    expect(routingHeaders(answer.headers)).toEqual({ deployment: "retrying", attempts: "1" });
    expect(fake.requests.length).toBe(before + 1);
    expect(await recordedAttempts(proxy, `401-${tag}`)).toMatchObject([{ status: "error", http_status: 401 }]);
  });
});

describe("after the first chunk has reached the client", () => {
  it("a reset after 3 chunks ends the stream with the in-band error, without a retry; the partial answer is recorded", async () => {
    fake.enqueue({ kind: "reset-after", chunks: 3 });
    const before = fake.requests.length;
    const response = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "reset3" },
      body: JSON.stringify(chatBody("retrying", { stream: true })),
    });
    expect(response.status).toBe(200);
    expect(routingHeaders(response.headers)).toEqual({ deployment: "retrying", attempts: "1" });
    const events: string[] = [];
    const decoder = new TextDecoder();
    let raw = "";
    for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>)
      raw += decoder.decode(bytes, { stream: true });
    for (const block of raw.split("\n\n")) if (block.startsWith("data: ")) events.push(block.slice(6));

    const pieces = splitText(DEFAULT_TEXT, 6);
    expect(events).toHaveLength(4);
    expect(
      events
        .slice(0, 3)
        .map((e) => (JSON.parse(e) as { choices: { delta: { content: string } }[] }).choices[0]!.delta.content),
    ).toEqual(pieces.slice(0, 3));
    const error = JSON.parse(events[3]!) as { error: { code: string; message: string } };
    expect(error.error.code).toBe("upstream_unreachable");
    expect(raw).not.toContain("[DONE]");
    expect(fake.requests.length).toBe(before + 1);

    const attempts = await recordedAttempts(proxy, "reset3");
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ status: "unreachable", http_status: 200 });
    const row = await recordedExchange(proxy, "reset3");
    expect(row).toMatchObject({ status: "truncated", http_status: 200, deployment: "retrying" });
    const [response_] = rows<{ response: string }>(proxy.dbPath, "SELECT response FROM responses WHERE id = ?", row.id);
    expect(response_!.response).toBe(pieces.slice(0, 3).join(""));
  });
});

describe("an abort ends the attempts", () => {
  it("a client that leaves during the Retry-After wait gets no further attempt", async () => {
    fake.enqueue({ kind: "status", status: 429, body: RATE_LIMIT_BODY, headers: { "Retry-After": "1" } });
    const before = fake.requests.length;
    const controller = new AbortController();
    retryWaits.mode = "held";
    const pending = ask(false, "abort-wait", controller.signal).catch((error: unknown) => error);
    await until("the wait after the 429", () => retryWaits.asked.length === 1);
    controller.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);

    // The client's leaving cut the wait short, and the exchange ended there.
    await until("the wait aborted", () => retryWaits.asked[0]!.state === "aborted");
    await exchangeOver(proxy, "abort-wait");
    expect(fake.requests.length).toBe(before + 1);
    expect(await recordedAttempts(proxy, "abort-wait")).toMatchObject([{ status: "error", http_status: 429 }]);
    expect(await recordedExchange(proxy, "abort-wait")).toMatchObject({ status: "cancelled", http_status: 499 });
  });

  it("a client that leaves during an attempt cancels it upstream, and no retry follows", async () => {
    fake.enqueue({ kind: "stall" });
    const before = fake.requests.length;
    const abortedBefore = fake.requests.filter((r) => r.aborted).length;
    const controller = new AbortController();
    const pending = ask(true, "abort-attempt", controller.signal).catch((error: unknown) => error);
    await until("the first attempt upstream", () => fake.requests.length === before + 1);
    controller.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    await fake.waitForAborts(abortedBefore + 1);

    // Once the exchange is recorded its dispatch is over: no retry came, none was even waited for.
    await exchangeOver(proxy, "abort-attempt");
    expect(fake.requests.length).toBe(before + 1);
    expect(retryWaits.asked.filter((w) => w.state !== "aborted")).toEqual([]);
    expect(await recordedAttempts(proxy, "abort-attempt")).toMatchObject([{ status: "cancelled", http_status: null }]);
    expect(await recordedExchange(proxy, "abort-attempt")).toMatchObject({ status: "cancelled" });
  });

  it("a server stop during the wait answers 503 server_shutting_down and makes no further attempt", async () => {
    const own = await startFakeUpstream();
    const stopping = await startTestProxy({
      models: { retrying: group("retrying", [fakeDeployment(own.baseUrl)], { numRetries: 3 }) },
      routing: routing({ retry_max_ms: 5_000 }),
      shutdownGraceMs: 100,
    });
    try {
      own.enqueue({ kind: "status", status: 429, body: RATE_LIMIT_BODY, headers: { "Retry-After": "3" } });
      retryWaits.mode = "held";
      const pending = chat(stopping, chatBody("retrying"), { "x-request-id": "stop-wait" });
      await until("the wait after the 429", () => retryWaits.asked.length === 1);
      expect(retryWaits.asked[0]!.ms).toBe(3_000);
      await stopping.server.close();
      const answer = await pending;
      expect(answer.status).toBe(503);
      expect(openAIError(answer).code).toBe("server_shutting_down");
      expect(routingHeaders(answer.headers)).toEqual({ deployment: "retrying", attempts: "1" });
      expect(own.requests).toHaveLength(1);
      expect(retryWaits.asked.map((w) => w.state)).toEqual(["aborted"]);
      const [row] = rows<{ status: string; attempts: number }>(
        stopping.dbPath,
        "SELECT status, attempts FROM llm_relay_exchanges WHERE request_id = 'stop-wait'",
      );
      expect(row).toEqual({ status: "cancelled", attempts: 1 });
    } finally {
      await own.close();
      fs.rmSync(stopping.dir, { recursive: true, force: true });
    }
  });
});
