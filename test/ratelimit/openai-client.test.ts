/**
 * What an `openai` SDK client sees from a server that wires the limiter the
 * way the proxy will (acquire before, settle after, the decision's headers on
 * every answer, `rateLimitError` for a refusal): a real node:http server on
 * 127.0.0.1, run with both limiters.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { rateLimitError } from "../../src/ratelimit/errors.js";
import type { RateLimiter } from "../../src/ratelimit/types.js";
import { memoryHarness, redisHarness, type LimiterHarness } from "./harness.js";

/** A chat endpoint limited to `rpm` requests per window for the key `key-1`; answers 7 + 5 tokens. */
async function limitedServer(limiter: RateLimiter, rpm: number, tpm: number): Promise<Server> {
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      void (async () => {
        const decision = await limiter.acquire("key-1", { rpm, tpm, estimatedTokens: 20 });
        if (!decision.allowed) {
          const error = rateLimitError(decision, { subject: "key lr-test" });
          response.writeHead(error.status, { ...error.headers, "content-type": "application/json" });
          response.end(JSON.stringify(error.toBody()));
          return;
        }
        const usage = { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 };
        await limiter.settle("key-1", { reservationId: decision.reservationId, actualTokens: usage.total_tokens });
        response.writeHead(200, { ...decision.headers, "content-type": "application/json" });
        response.end(
          JSON.stringify({
            id: "chatcmpl-limited",
            object: "chat.completion",
            created: 1_700_000_000,
            model: "echo",
            choices: [
              { index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop", logprobs: null },
            ],
            usage,
          }),
        );
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

describe.each([
  { kind: "memory", harness: memoryHarness },
  { kind: "redis", harness: redisHarness },
])("an openai SDK client against a server limited with the $kind limiter", ({ harness }) => {
  let h: LimiterHarness;
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    server = undefined;
    await h.cleanup();
  });

  function client(maxRetries: number): OpenAI {
    const { port } = server!.address() as AddressInfo;
    return new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "lr-test", maxRetries });
  }
  const ask = { model: "echo", messages: [{ role: "user" as const, content: "hi" }] };

  it("reads the x-ratelimit headers, then gets a RateLimitError with OpenAI's body and retry-after", async () => {
    h = harness();
    server = await limitedServer(h.make(60_000), 2, 1000);
    const first = await client(0).chat.completions.create(ask).withResponse();
    expect(first.data.choices[0]?.message.content).toBe("ok");
    expect(first.response.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(first.response.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    expect(first.response.headers.get("x-ratelimit-reset-requests")).toBe("1m0s");
    // 20 tokens reserved, then settled to the 12 really used… and the second reserves 20 more.
    const second = await client(0).chat.completions.create(ask).withResponse();
    expect(second.response.headers.get("x-ratelimit-remaining-tokens")).toBe(String(1000 - 12 - 20));

    const failure = await client(0)
      .chat.completions.create(ask)
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(OpenAI.RateLimitError);
    const error = failure as InstanceType<typeof OpenAI.RateLimitError>;
    expect(error.status).toBe(429);
    expect(error.type).toBe("requests");
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.message).toMatch(
      /^429 Rate limit reached for key lr-test on requests per min \(RPM\): Limit 2, Used 2, Requested 1\./,
    );
    expect(error.headers.get("retry-after")).toBe("60");
    expect(error.headers.get("x-ratelimit-remaining-requests")).toBe("0");
  });

  it("lets the SDK's own retry succeed after waiting the advertised retry-after-ms", async () => {
    h = harness();
    server = await limitedServer(h.make(1500), 1, 1000);
    await client(0).chat.completions.create(ask);
    // The second request is refused; the SDK waits retry-after-ms (≤ 1.5 s) and its retry is admitted.
    // Its own backoff for a first retry is at most 0.5 s, which would meet a second 429 (maxRetries 1).
    const retried = await client(1).chat.completions.create(ask).withResponse();
    expect(retried.data.choices[0]?.message.content).toBe("ok");
    expect(retried.response.headers.get("x-ratelimit-remaining-requests")).toBe("0");
  });
});
