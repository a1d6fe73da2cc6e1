/**
 * One behavioural suite run against both limiters (in memory, and Redis on
 * 127.0.0.1:6379): what a client of the proxy would see from each decision,
 * its OpenAI headers and its 429 body. The in-memory limiter runs on an
 * injected clock the tests move; the Redis one reads the server's `TIME`, so
 * its windows are short (≤ 1.2 s) and the tests wait until that clock has
 * moved (see `LimiterHarness.wait`).
 */
import { afterEach, describe, expect, it } from "vitest";
import { rateLimitError } from "../../src/ratelimit/errors.js";
import type { RateLimitDecision, RateLimitRefused, RateLimitAllowed } from "../../src/ratelimit/types.js";
import { memoryHarnessWithClock, redisHarness, type LimiterHarness } from "./harness.js";
import { match } from "../helpers/matchers.js";

function admitted(decision: RateLimitDecision): RateLimitAllowed {
  if (!decision.allowed) throw new Error(`expected an admitted request, got a refusal: ${JSON.stringify(decision)}`);
  return decision;
}

function refused(decision: RateLimitDecision): RateLimitRefused {
  if (decision.allowed) throw new Error(`expected a refusal, got an admitted request: ${JSON.stringify(decision)}`);
  return decision;
}

describe.each([
  { kind: "memory", harness: memoryHarnessWithClock },
  { kind: "redis", harness: redisHarness },
])("$kind rate limiter", ({ harness }) => {
  let h: LimiterHarness;
  afterEach(async () => {
    await h.cleanup();
  });

  it("admits 10 requests, then refuses the 11th with retry-after, OpenAI headers and a 429 body", async () => {
    h = harness();
    const limiter = h.make(1000);
    for (let i = 1; i <= 10; i += 1) {
      const decision = admitted(await limiter.acquire("key-a", { rpm: 10 }));
      expect(decision.headers).toEqual({
        "x-ratelimit-limit-requests": "10",
        "x-ratelimit-remaining-requests": String(10 - i),
        // The newest request was admitted just now: the window is back to its initial state one window later.
        "x-ratelimit-reset-requests": "1s",
      });
    }

    const eleventh = refused(await limiter.acquire("key-a", { rpm: 10 }));
    expect(eleventh.reason).toBe("requests");
    expect(eleventh.retryAfterMs).toBeGreaterThan(0);
    expect(eleventh.retryAfterMs).toBeLessThanOrEqual(1000);
    expect(eleventh).toMatchObject({ limit: 10, used: 10, requested: 1, exceedsLimit: false, windowMs: 1000 });
    expect(eleventh.headers).toMatchObject({
      "x-ratelimit-limit-requests": "10",
      "x-ratelimit-remaining-requests": "0",
      "retry-after": "1",
      "retry-after-ms": String(Math.ceil(eleventh.retryAfterMs)),
    });
    expect(eleventh.headers["x-ratelimit-reset-requests"]).toMatch(/^(\d{1,3}ms|1s)$/);
    expect(Object.keys(eleventh.headers).filter((name) => name.includes("tokens"))).toEqual([]);

    const error = rateLimitError(eleventh, { subject: "key lr-test" });
    expect(error.status).toBe(429);
    expect(error.headers).toEqual(eleventh.headers);
    expect(error.toBody()).toEqual({
      error: {
        message: match.stringMatching(
          /^Rate limit reached for key lr-test on requests per 1s: Limit 10, Used 10, Requested 1\. Please try again in (\d{1,3}ms|1s)\.$/,
        ),
        type: "requests",
        param: null,
        code: "rate_limit_exceeded",
      },
    });

    // Waiting what retry-after-ms says is enough: the oldest request has left the window.
    await h.wait(eleventh.retryAfterMs + 20);
    admitted(await limiter.acquire("key-a", { rpm: 10 }));
  });

  it("slides the window: each request leaves it one window after it was admitted, not at a fixed boundary", async () => {
    h = harness();
    const limiter = h.make(1200);
    for (let i = 0; i < 5; i += 1) admitted(await limiter.acquire("key-s", { rpm: 10 }));
    await h.wait(600);
    for (let i = 0; i < 5; i += 1) admitted(await limiter.acquire("key-s", { rpm: 10 }));
    const full = refused(await limiter.acquire("key-s", { rpm: 10 }));
    // The oldest request is at least 600 ms old, so it leaves within 600 ms.
    expect(full.retryAfterMs).toBeLessThanOrEqual(605);

    await h.wait(full.retryAfterMs + 50);
    // The first five have left; the last five are still inside the window.
    for (let i = 0; i < 5; i += 1) {
      const decision = admitted(await limiter.acquire("key-s", { rpm: 10 }));
      expect(decision.headers["x-ratelimit-remaining-requests"]).toBe(String(4 - i));
    }
    const stillFull = refused(await limiter.acquire("key-s", { rpm: 10 }));
    expect(stillFull.reason).toBe("requests");
    expect(stillFull.used).toBe(10);
  });

  it("reserves estimated tokens against tpm and corrects them with settle, down and up", async () => {
    h = harness();
    const limiter = h.make(1000);
    const first = admitted(await limiter.acquire("key-t", { tpm: 100, estimatedTokens: 60 }));
    expect(first.reservedTokens).toBe(60);
    expect(first.headers).toEqual({
      "x-ratelimit-limit-tokens": "100",
      "x-ratelimit-remaining-tokens": "40",
      "x-ratelimit-reset-tokens": "1s",
    });

    const tooMany = refused(await limiter.acquire("key-t", { tpm: 100, estimatedTokens: 60 }));
    expect(tooMany).toMatchObject({ reason: "tokens", limit: 100, used: 60, requested: 60, exceedsLimit: false });
    expect(tooMany.headers).toMatchObject({ "x-ratelimit-remaining-tokens": "40", "retry-after": "1" });
    expect(rateLimitError(tooMany).toBody().error).toMatchObject({
      type: "tokens",
      code: "rate_limit_exceeded",
      message: match.stringMatching(
        /^Rate limit reached for this API key on tokens per 1s: Limit 100, Used 60, Requested 60\. /,
      ),
    });

    // The first request really used 25 tokens: 75 are free again.
    expect(await limiter.settle("key-t", { reservationId: first.reservationId, actualTokens: 25 })).toBe(true);
    const second = admitted(await limiter.acquire("key-t", { tpm: 100, estimatedTokens: 60 }));
    expect(second.headers["x-ratelimit-remaining-tokens"]).toBe("15");

    // The second used more than estimated (75): the window now holds 25 + 75 = 100 tokens.
    expect(await limiter.settle("key-t", { reservationId: second.reservationId, actualTokens: 75 })).toBe(true);
    const oneMore = refused(await limiter.acquire("key-t", { tpm: 100, estimatedTokens: 1 }));
    expect(oneMore).toMatchObject({ reason: "tokens", used: 100, requested: 1 });
    expect(oneMore.headers["x-ratelimit-remaining-tokens"]).toBe("0");
  });

  it("refuses a request larger than the whole tpm as too large", async () => {
    h = harness();
    const limiter = h.make(1000);
    const decision = refused(await limiter.acquire("key-big", { tpm: 100, estimatedTokens: 150 }));
    expect(decision).toMatchObject({ reason: "tokens", limit: 100, used: 0, requested: 150, exceedsLimit: true });
    expect(rateLimitError(decision).toBody().error.message).toBe(
      "Request too large for this API key on tokens per 1s: Limit 100, Requested 150. " +
        "The input or output tokens must be reduced in order to run successfully.",
    );
    // Nothing was reserved by the refusal.
    const small = admitted(await limiter.acquire("key-big", { tpm: 100, estimatedTokens: 100 }));
    expect(small.headers["x-ratelimit-remaining-tokens"]).toBe("0");
  });

  it("applies rpm and tpm together; a refused request reserves nothing", async () => {
    h = harness();
    const limiter = h.make(1000);
    const limits = { rpm: 2, tpm: 1000, estimatedTokens: 10 };
    admitted(await limiter.acquire("key-both", limits));
    const second = admitted(await limiter.acquire("key-both", limits));
    expect(second.headers).toEqual({
      "x-ratelimit-limit-requests": "2",
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "1s",
      "x-ratelimit-limit-tokens": "1000",
      "x-ratelimit-remaining-tokens": "980",
      "x-ratelimit-reset-tokens": "1s",
    });
    const third = refused(await limiter.acquire("key-both", limits));
    expect(third.reason).toBe("requests");
    expect(third.headers["x-ratelimit-remaining-tokens"]).toBe("980");
  });

  it("keeps different keys independent", async () => {
    h = harness();
    const limiter = h.make(1000);
    for (let i = 0; i < 3; i += 1) admitted(await limiter.acquire("key-x", { rpm: 3 }));
    refused(await limiter.acquire("key-x", { rpm: 3 }));
    for (let i = 0; i < 3; i += 1) admitted(await limiter.acquire("key-y", { rpm: 3 }));
    refused(await limiter.acquire("key-y", { rpm: 3 }));
  });

  it("answers settle with false once the reservation has left the window", async () => {
    h = harness();
    const limiter = h.make(200);
    const decision = admitted(await limiter.acquire("key-late", { tpm: 100, estimatedTokens: 50 }));
    await h.wait(250);
    expect(await limiter.settle("key-late", { reservationId: decision.reservationId, actualTokens: 80 })).toBe(false);
    const next = admitted(await limiter.acquire("key-late", { tpm: 100, estimatedTokens: 100 }));
    expect(next.headers["x-ratelimit-remaining-tokens"]).toBe("0");
  });

  it("rejects limits and estimates that are not integers of the right sign", async () => {
    h = harness();
    const limiter = h.make(1000);
    await expect(limiter.acquire("key-bad", { rpm: 0 })).rejects.toThrow(RangeError);
    await expect(limiter.acquire("key-bad", { tpm: 1.5 })).rejects.toThrow("tpm must be a positive integer, got 1.5");
    await expect(limiter.acquire("key-bad", { rpm: 5, estimatedTokens: -1 })).rejects.toThrow(RangeError);
    await expect(limiter.settle("key-bad", { reservationId: "r", actualTokens: -3 })).rejects.toThrow(RangeError);
  });
});
