/**
 * The OpenAI shapes the limiter answers with, checked against the shapes
 * recorded in fixtures/openai-rate-limit.json (OpenAI's rate-limit guide and
 * 429 bodies quoted from api.openai.com; sources listed in the file), and
 * the in-memory limiter's exact window edge and forgetting of idle keys
 * (driven by an injected clock).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { rateLimitError } from "../../src/ratelimit/errors.js";
import { formatResetDuration, rateLimitHeaders } from "../../src/ratelimit/headers.js";
import { MemoryRateLimiter } from "../../src/ratelimit/memory-limiter.js";

interface FixtureBody {
  status: number;
  body: { error: { message: string; type: string; param: null; code: string } };
}
const fixture = JSON.parse(readFileSync(new URL("./fixtures/openai-rate-limit.json", import.meta.url), "utf8")) as {
  headers: Record<string, string>;
  requests_429: FixtureBody;
  tokens_429: FixtureBody;
  too_large_429: FixtureBody;
};

const RATE_LIMIT_REACHED =
  /^Rate limit reached for .+ on (requests per min \(RPM\)|tokens per min \(TPM\)): Limit \d+, Used \d+, Requested \d+\. Please try again in (\d+ms|(\d+m)?\d+(\.\d{1,3})?s)\./;
const REQUEST_TOO_LARGE =
  /^Request too large for .+ on tokens per min \(TPM\): Limit \d+, Requested \d+\. The input or output tokens must be reduced in order to run successfully\.$/;

describe("OpenAI rate-limit headers", () => {
  it("formats resets as OpenAI does (1s, 6m0s, 12ms, 1.146s)", () => {
    expect(formatResetDuration(1000)).toBe("1s");
    expect(formatResetDuration(360_000)).toBe("6m0s");
    expect(formatResetDuration(12)).toBe("12ms");
    expect(formatResetDuration(1146)).toBe("1.146s");
    expect(formatResetDuration(11_054)).toBe("11.054s");
    expect(formatResetDuration(90_500)).toBe("1m30.5s");
    expect(formatResetDuration(3_723_000)).toBe("1h2m3s");
    expect(formatResetDuration(0.2)).toBe("1ms");
    expect(formatResetDuration(0)).toBe("0s");
  });

  it("reproduces the guide's sample headers from the same window state", () => {
    const headers = rateLimitHeaders({
      rpm: 60,
      tpm: 150_000,
      requests: 1,
      tokens: 16,
      requestsResetMs: 1000,
      tokensResetMs: 360_000,
    });
    expect(headers).toEqual(fixture.headers);
  });
});

describe("the 429 body", () => {
  it("has OpenAI's fields and wording for a requests-per-minute refusal", async () => {
    const limiter = new MemoryRateLimiter();
    await limiter.acquire("k", { rpm: 1 });
    const decision = await limiter.acquire("k", { rpm: 1 });
    if (decision.allowed) throw new Error("second request admitted");
    const error = rateLimitError(decision, { subject: "key lr-abc" });
    const body = error.toBody();
    expect(error.status).toBe(fixture.requests_429.status);
    expect(Object.keys(body.error).sort()).toEqual(Object.keys(fixture.requests_429.body.error).sort());
    expect(body.error).toMatchObject({ type: "requests", param: null, code: "rate_limit_exceeded" });
    expect(fixture.requests_429.body.error.message).toMatch(RATE_LIMIT_REACHED);
    expect(body.error.message).toMatch(RATE_LIMIT_REACHED);
    expect(body.error.message).toMatch(
      /^Rate limit reached for key lr-abc on requests per min \(RPM\): Limit 1, Used 1, Requested 1\./,
    );
    await limiter.close();
  });

  it("has OpenAI's fields and wording for tokens-per-minute refusals, too large or not", async () => {
    const limiter = new MemoryRateLimiter();
    await limiter.acquire("k", { tpm: 1000, estimatedTokens: 900 });
    const over = await limiter.acquire("k", { tpm: 1000, estimatedTokens: 200 });
    const tooLarge = await limiter.acquire("k", { tpm: 1000, estimatedTokens: 2000 });
    if (over.allowed || tooLarge.allowed) throw new Error("admitted");
    const overBody = rateLimitError(over).toBody();
    expect(overBody.error).toMatchObject({
      type: fixture.tokens_429.body.error.type,
      code: fixture.tokens_429.body.error.code,
      param: null,
    });
    expect(fixture.tokens_429.body.error.message).toMatch(RATE_LIMIT_REACHED);
    expect(overBody.error.message).toMatch(RATE_LIMIT_REACHED);
    expect(overBody.error.message).toContain("on tokens per min (TPM): Limit 1000, Used 900, Requested 200.");

    const largeBody = rateLimitError(tooLarge).toBody();
    expect(largeBody.error).toMatchObject({ type: fixture.too_large_429.body.error.type, code: "rate_limit_exceeded" });
    expect(fixture.too_large_429.body.error.message).toMatch(REQUEST_TOO_LARGE);
    expect(largeBody.error.message).toMatch(REQUEST_TOO_LARGE);
    await limiter.close();
  });
});

describe("in-memory window edge (injected clock)", () => {
  it("counts a request for exactly one window and forgets idle keys", async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter({ windowMs: 60_000, now: () => now });
    expect((await limiter.acquire("idle", { rpm: 1 })).allowed).toBe(true);
    now += 59_999;
    const refused = await limiter.acquire("idle", { rpm: 1 });
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 1 });
    expect(refused.headers["retry-after"]).toBe("1");
    now += 1;
    expect((await limiter.acquire("idle", { rpm: 1 })).allowed).toBe(true);
    expect(limiter.keyCount).toBe(1);
    // One window later another key's request sweeps the idle one away.
    now += 60_000;
    await limiter.acquire("other", { rpm: 1 });
    expect(limiter.keyCount).toBe(1);
    await limiter.close();
  });
});
