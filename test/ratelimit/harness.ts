/**
 * Limiter factories for the shared behavioural suite, and Redis helpers:
 * every Redis test writes under its own random key prefix and deletes its
 * keys afterwards (other sessions and CI share the server).
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { MemoryRateLimiter } from "../../src/ratelimit/memory-limiter.js";
import { RedisRateLimiter } from "../../src/ratelimit/redis-limiter.js";
import type { RateLimiter } from "../../src/ratelimit/types.js";
import { until } from "../helpers/until.js";

/** The Redis the tests use (`.ci/run` starts one on 127.0.0.1:6379). */
export const REDIS_URL = process.env.LLM_RELAY_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A set of limiters of one kind, created for one test and cleaned up after it. */
export interface LimiterHarness {
  /** A new limiter; with Redis, every limiter of a harness shares one count (same prefix). */
  make(windowMs: number): RateLimiter;
  /**
   * Lets `ms` pass on the limiters' clock: moves an injected clock at once, or waits until the
   * clock the limiters read (the process's, or the Redis server's `TIME`) has moved that far.
   */
  wait(ms: number): Promise<void>;
  /** Closes the limiters and deletes whatever they stored. */
  cleanup(): Promise<void>;
}

/** A fresh random prefix for one test's Redis keys. */
export function uniquePrefix(): string {
  return `llm-relay-test:${randomUUID()}:`;
}

/** The keys under `prefix` (SCAN, never KEYS). */
export async function keysUnder(admin: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    cursor = next;
    found.push(...batch);
  } while (cursor !== "0");
  return found;
}

/** Deletes the keys under `prefix`. */
export async function deleteKeysUnder(admin: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(admin, prefix);
  if (keys.length > 0) await admin.del(...keys);
}

/** Harness of in-memory limiters (each one its own count) on the real monotonic clock (`performance.now()`). */
export function memoryHarness(): LimiterHarness {
  const made: RateLimiter[] = [];
  return {
    make(windowMs) {
      const limiter = new MemoryRateLimiter({ windowMs });
      made.push(limiter);
      return limiter;
    },
    async wait(ms) {
      const target = performance.now() + ms;
      await until(`${ms} ms on the process's clock`, () => performance.now() >= target, { everyMs: 5 });
    },
    async cleanup() {
      await Promise.all(made.map((limiter) => limiter.close()));
    },
  };
}

/**
 * Harness of in-memory limiters on one injected clock (the limiter's `now` option), in ms: `wait`
 * moves it without any real time passing, so windows of any length are observed at once.
 */
export function memoryHarnessWithClock(): LimiterHarness {
  let clockMs = 1_000_000;
  const made: RateLimiter[] = [];
  return {
    make(windowMs) {
      const limiter = new MemoryRateLimiter({ windowMs, now: () => clockMs });
      made.push(limiter);
      return limiter;
    },
    wait(ms) {
      clockMs += ms;
      return Promise.resolve();
    },
    async cleanup() {
      await Promise.all(made.map((limiter) => limiter.close()));
    },
  };
}

/** Harness of Redis limiters, each with its own connection, all under one fresh prefix. */
export function redisHarness(): LimiterHarness & { prefix: string; admin: Redis } {
  const prefix = uniquePrefix();
  const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
  const made: RateLimiter[] = [];
  /** The Redis server's clock (`TIME`), which the limiter's scripts read, in ms. */
  const serverMs = async (): Promise<number> => {
    const [seconds, micros] = await admin.time();
    return Number(seconds) * 1000 + Number(micros) / 1000;
  };
  return {
    prefix,
    admin,
    make(windowMs) {
      const limiter = new RedisRateLimiter({ url: REDIS_URL, keyPrefix: prefix, windowMs });
      made.push(limiter);
      return limiter;
    },
    async wait(ms) {
      const target = (await serverMs()) + ms;
      await until(`${ms} ms on the Redis server's clock`, async () => (await serverMs()) >= target, { everyMs: 5 });
    },
    async cleanup() {
      await Promise.all(made.map((limiter) => limiter.close()));
      await deleteKeysUnder(admin, prefix);
      await admin.quit();
    },
  };
}
