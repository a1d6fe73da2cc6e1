/**
 * What only the Redis limiter promises: several proxies (here two limiters,
 * each with its own ioredis connection) share one count per key; its keys
 * live under the configured prefix and expire with the window; an
 * unreachable Redis gives a clear error instead of a hang.
 */
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RateLimitStoreError } from "../../src/ratelimit/errors.js";
import { RedisRateLimiter } from "../../src/ratelimit/redis-limiter.js";
import { redisHarness, keysUnder } from "./harness.js";
import { until } from "../helpers/until.js";

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

describe("Redis rate limiter shared by two proxies", () => {
  let h: ReturnType<typeof redisHarness>;
  afterEach(async () => {
    await h.cleanup();
  });

  it("admits exactly 10 of 20 concurrent requests split across two instances (rpm 10, one-minute window)", async () => {
    h = redisHarness();
    const proxyA = h.make(60_000);
    const proxyB = h.make(60_000);
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? proxyA : proxyB).acquire("shared-key", { rpm: 10 })),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    const refusals = decisions.filter((d) => !d.allowed);
    expect(refusals).toHaveLength(10);
    for (const refusal of refusals) {
      expect(refusal.headers).toMatchObject({ "x-ratelimit-remaining-requests": "0", "retry-after": "60" });
    }
    // The remaining counts the admitted requests saw are 9…0, each once: one count, not two.
    const remaining = decisions
      .filter((d) => d.allowed)
      .map((d) => Number(d.headers["x-ratelimit-remaining-requests"]));
    expect(remaining.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The 11th gets 429 wherever it lands.
    expect((await proxyA.acquire("shared-key", { rpm: 10 })).allowed).toBe(false);
    expect((await proxyB.acquire("shared-key", { rpm: 10 })).allowed).toBe(false);
  });

  it("shares token reservations and their settlement across instances", async () => {
    h = redisHarness();
    const proxyA = h.make(60_000);
    const proxyB = h.make(60_000);
    const onA = await proxyA.acquire("shared-tokens", { tpm: 1000, estimatedTokens: 900 });
    if (!onA.allowed) throw new Error("first reservation refused");
    const onB = await proxyB.acquire("shared-tokens", { tpm: 1000, estimatedTokens: 200 });
    expect(onB).toMatchObject({ allowed: false, reason: "tokens", used: 900 });
    // Usage becomes known on A (settle could run on any instance): 300 tokens really used.
    expect(await proxyB.settle("shared-tokens", { reservationId: onA.reservationId, actualTokens: 300 })).toBe(true);
    const retried = await proxyB.acquire("shared-tokens", { tpm: 1000, estimatedTokens: 200 });
    expect(retried.allowed).toBe(true);
    expect(retried.headers["x-ratelimit-remaining-tokens"]).toBe("500");
  });

  it("writes only under its key prefix, with a TTL of one window, so idle keys disappear", async () => {
    h = redisHarness();
    const limiter = h.make(300);
    const decision = await limiter.acquire("ttl-key", { rpm: 5, tpm: 100, estimatedTokens: 10 });
    expect(decision.allowed).toBe(true);
    const keys = (await keysUnder(h.admin, h.prefix)).sort();
    expect(keys).toEqual([`${h.prefix}{ttl-key}:req`, `${h.prefix}{ttl-key}:tok`]);
    for (const key of keys) {
      const ttl = await h.admin.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(300);
    }
    // Expired by Redis itself (the TTLs above are at most one window): nobody deletes them.
    await until("the idle keys expired", async () => (await keysUnder(h.admin, h.prefix)).length === 0);
  });
});

describe("Redis rate limiter without Redis", () => {
  it("rejects with a RateLimitStoreError naming the server (password redacted) instead of hanging", async () => {
    const port = await closedPort();
    const limiter = new RedisRateLimiter({ url: `redis://relay:s3cret@127.0.0.1:${port}`, connectTimeoutMs: 500 });
    try {
      const failure = await limiter.acquire("any-key", { rpm: 10 }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(RateLimitStoreError);
      const error = failure as RateLimitStoreError;
      expect(error.message).toContain(`The Redis rate-limit store at redis://relay:***@127.0.0.1:${port}`);
      expect(error.message).toContain("ECONNREFUSED");
      expect(error.message).not.toContain("s3cret");
      expect(error.status).toBe(503);
      expect(error.toBody().error).toMatchObject({ type: "server_error", code: "rate_limiter_unavailable" });
      await expect(limiter.settle("any-key", { reservationId: "r", actualTokens: 1 })).rejects.toThrow(
        RateLimitStoreError,
      );
    } finally {
      await limiter.close();
    }
  });
});
