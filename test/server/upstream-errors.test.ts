/**
 * What a client sees when the upstream fails before its first byte — an
 * HTTP error status, a Retry-After, a refused connection, a stall — for
 * streamed and non-streamed requests: a real HTTP status with an OpenAI
 * error body (never a 200 SSE stream), and an `error` record in the
 * database. The proxy keeps serving afterwards.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TEXT, startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { chat, chatBody, closedPort, openAIError, recordedExchange, recordedExchanges } from "../helpers/exchanges.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";

/** The body llama-server answers a request without `messages` with (captured). */
const LLAMA_500_BODY =
  '{"error":{"code":500,"message":"[json.exception.out_of_range.403] key \'messages\' not found","type":"server_error"}}';
const LLAMA_500_MESSAGE = "[json.exception.out_of_range.403] key 'messages' not found";
/** OpenAI's rate-limit error body. */
const RATE_LIMIT_BODY =
  '{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}';

let fake: FakeUpstream;
let proxy: TestProxy;
let deadPort: number;

beforeAll(async () => {
  fake = await startFakeUpstream();
  deadPort = await closedPort();
  proxy = await startTestProxy({
    models: {
      up: fakeDeployment(fake.baseUrl, { timeout_ms: 500 }),
      slow: fakeDeployment(fake.baseUrl, { timeout_ms: 300 }),
      dead: fakeDeployment(`http://127.0.0.1:${deadPort}/v1`, { timeout_ms: 500 }),
    },
    defaultModel: null,
  });
});
afterAll(async () => {
  await proxy?.close();
  await fake?.close();
});

/** Checks the exchange with `requestId` was recorded as an error with `httpStatus`; returns its error text. */
async function expectErrorRecord(
  requestId: string,
  httpStatus: number,
  stream: boolean,
  model: string,
): Promise<string> {
  const row = await recordedExchange(proxy, requestId);
  expect(row).toMatchObject({
    status: "error",
    http_status: httpStatus,
    stream: stream ? 1 : 0,
    model,
    provider: "openai-compatible",
    deployment: model,
  });
  expect(row.error ?? "").not.toBe("");
  const recordedBody = JSON.parse(row.response_json ?? "null") as { error?: { message?: string } } | null;
  expect(recordedBody?.error?.message).toBe(row.error);
  return row.error!;
}

describe.each([false, true])("upstream failure before the first byte, stream: %s", (stream) => {
  const tag = stream ? "stream" : "json";

  it("relays an upstream 500 with the upstream's error message", async () => {
    fake.behave({ kind: "status", status: 500, body: LLAMA_500_BODY });
    const before = fake.requests.length;
    const answer = await chat(proxy, chatBody("up", { stream }), { "x-request-id": `up500-${tag}` });

    expect(answer.status).toBe(500);
    expect(answer.headers.get("x-request-id")).toBe(`up500-${tag}`);
    const error = openAIError(answer);
    expect(error.message).toBe(LLAMA_500_MESSAGE);
    expect(error.type).toBe("server_error");
    expect(fake.requests.length).toBe(before + 1);
    expect(fake.requests.at(-1)!.body.model).toBe("up");
    expect(await expectErrorRecord(`up500-${tag}`, 500, stream, "up")).toContain(LLAMA_500_MESSAGE);
  });

  it("relays an upstream 429 with its message, code and Retry-After", async () => {
    fake.behave({ kind: "status", status: 429, body: RATE_LIMIT_BODY, headers: { "Retry-After": "7" } });
    const answer = await chat(proxy, chatBody("up", { stream }), { "x-request-id": `up429-${tag}` });

    expect(answer.status).toBe(429);
    expect(answer.headers.get("retry-after")).toBe("7");
    const error = openAIError(answer);
    expect(error).toMatchObject({ message: "Rate limit reached", code: "rate_limit_exceeded" });
    expect(await expectErrorRecord(`up429-${tag}`, 429, stream, "up")).toContain("Rate limit reached");
  });

  it("answers 502 upstream_unreachable when the upstream refuses the connection", async () => {
    const answer = await chat(proxy, chatBody("dead", { stream }), { "x-request-id": `dead-${tag}` });

    expect(answer.status).toBe(502);
    const error = openAIError(answer);
    expect(error.code).toBe("upstream_unreachable");
    expect(error.type).toBe("server_error");
    expect(error.message).toContain(`127.0.0.1:${deadPort}`);
    expect(await expectErrorRecord(`dead-${tag}`, 502, stream, "dead")).toContain("ECONNREFUSED");
  });

  it("answers 504 upstream_timeout when the upstream stalls, and aborts the upstream request", async () => {
    fake.behave({ kind: "stall" });
    const abortedBefore = fake.requests.filter((r) => r.aborted).length;
    const before = fake.requests.length;
    const answer = await chat(proxy, chatBody("slow", { stream }), { "x-request-id": `slow-${tag}` });

    expect(answer.status).toBe(504);
    expect(answer.headers.get("x-request-id")).toBe(`slow-${tag}`);
    const error = openAIError(answer);
    expect(error.code).toBe("upstream_timeout");
    expect(error.message).toContain("300 ms");
    // The stalled request reached the upstream once and was then abandoned by the proxy.
    expect(fake.requests.length).toBe(before + 1);
    await fake.waitForAborts(abortedBefore + 1, 5_000);
    expect(fake.requests.at(-1)!.aborted).toBe(true);
    expect(await expectErrorRecord(`slow-${tag}`, 504, stream, "slow")).toMatch(/300 ms/);
  });
});

describe("the official openai client", () => {
  it("surfaces an upstream 429 as a RateLimitError with status, code and retry-after", async () => {
    fake.behave({ kind: "status", status: 429, body: RATE_LIMIT_BODY, headers: { "Retry-After": "7" } });
    const client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "sk-test-not-a-secret", maxRetries: 0 });
    const failure = await client.chat.completions
      .create({ model: "up", messages: [{ role: "user", content: "hi" }], stream: true })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(OpenAI.RateLimitError);
    const error = failure as InstanceType<typeof OpenAI.RateLimitError>;
    expect(error.status).toBe(429);
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.message).toContain("Rate limit reached");
    expect(error.headers?.get("retry-after")).toBe("7");
  });
});

describe("after the failures", () => {
  it("recorded every failed exchange as an error with its HTTP status", async () => {
    const errors = (await recordedExchanges(proxy)).filter((row) => row.status === "error");
    expect(errors.map((row) => row.http_status).sort()).toEqual([429, 429, 429, 500, 500, 502, 502, 504, 504]);
    expect(errors.every((row) => (row.error ?? "").length > 0)).toBe(true);
  });

  it("keeps serving: a normal request to the same upstream succeeds, with and without stream", async () => {
    fake.behave({ kind: "ok" });
    const client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "sk-test-not-a-secret", maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: "up",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(completion.choices[0]!.message.content).toBe(DEFAULT_TEXT);

    const stream = await client.chat.completions.create({
      model: "up",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe(DEFAULT_TEXT);

    const ok = (await recordedExchanges(proxy)).filter((row) => row.status === "ok");
    expect(ok).toHaveLength(2);
    expect(ok.every((row) => row.http_status === 200)).toBe(true);
  });
});
