/**
 * The shared rate limiter: the sliding-window log of `memory-limiter.ts`
 * kept in Redis, so every proxy pointed at the same Redis shares one count
 * per key. Each acquire and each settle is one atomic Lua script
 * (`redis-scripts.ts`) run with EVALSHA (EVAL once when the server does not
 * know it yet).
 *
 * Why a sliding-window log rather than GCRA or a sliding-window counter: the
 * issue asks that "an rpm limit of 10 shared across two instances: the 11th
 * request gets 429 wherever it lands" hold exactly within a minute. GCRA
 * spreads the allowance (after a burst of 10, one more every 6 s), so an 11th
 * request 6 s later passes; a sliding-window counter interpolates between two
 * fixed windows and can admit more or fewer than the limit near a boundary.
 * The log remembers each admitted request for exactly one window, so no
 * window of that length ever holds more than rpm requests or tpm tokens; its
 * cost, one sorted-set member per admitted request per key, is bounded by
 * the limits themselves.
 */
import { randomUUID, createHash } from "node:crypto";
import { createRequire } from "node:module";
import type { Redis, RedisOptions } from "ioredis";
import {
  checkAcquire,
  checkSettle,
  checkWindowMs,
  DEFAULT_WINDOW_MS,
  toDecision,
  type WindowOutcome,
} from "./decision.js";
import { RateLimitStoreError } from "./errors.js";
import { ACQUIRE_SCRIPT, SETTLE_SCRIPT } from "./redis-scripts.js";
import type { AcquireRequest, RateLimitDecision, RateLimiter, SettleRequest } from "./types.js";

/**
 * ioredis's client class, loaded on first use: a proxy without Redis does
 * not pay its 5–14 MB of resident memory. (ioredis is CommonJS, so the load
 * stays synchronous.)
 */
function loadRedis(): typeof Redis {
  return (createRequire(import.meta.url)("ioredis") as { Redis: typeof Redis }).Redis;
}

/** Default prefix of every Redis key the limiter writes. */
export const DEFAULT_KEY_PREFIX = "llm-relay:ratelimit:";

/** Options of {@link RedisRateLimiter}. */
export interface RedisRateLimiterOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`); the limiter opens and owns its connection. */
  url?: string;
  /** An existing connection instead of `url`; the caller keeps ownership (`close()` leaves it open). */
  client?: Redis;
  /** Prefix of the limiter's Redis keys; default {@link DEFAULT_KEY_PREFIX}. Keys are `<prefix>{<keyId>}:req` and `:tok`. */
  keyPrefix?: string;
  /** Window length in ms; default 60 000 (per minute). Every instance sharing a count must use the same. */
  windowMs?: number;
  /** With `url`: ms to wait for a TCP connection before giving up on an attempt; default 2000. */
  connectTimeoutMs?: number;
  /** With `url`: ms a command may wait for its reply (including while reconnecting); default 5000. */
  commandTimeoutMs?: number;
}

/** Replaces the password of a Redis URL with `***` (for error messages). */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(invalid Redis URL)";
  }
}

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

/** Checks a script reply: an array of `length` integers. */
function integers(reply: unknown, length: number): number[] {
  if (!Array.isArray(reply) || reply.length !== length || !reply.every((v): v is number => typeof v === "number")) {
    throw new RateLimitStoreError(`Unexpected reply from the Redis rate-limit script: ${JSON.stringify(reply)}`);
  }
  return reply;
}

/**
 * Per-key rpm/tpm limits shared through Redis (exact sliding window, see the
 * file comment). Safe to use from any number of proxies at once.
 *
 * Failure behaviour: with `url`, a command fails after at most one
 * reconnection attempt or `commandTimeoutMs` (never hangs), as a
 * {@link RateLimitStoreError} naming the server and the cause; the
 * connection keeps retrying in the background and recovers by itself.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly windowMs: number;
  /** Prefix of this limiter's Redis keys. */
  readonly keyPrefix: string;
  private readonly redis: Redis;
  private readonly ownsClient: boolean;
  private readonly target: string;
  private lastConnectionError: Error | null = null;
  private readonly acquireSha = sha1(ACQUIRE_SCRIPT);
  private readonly settleSha = sha1(SETTLE_SCRIPT);

  /** @throws RangeError without `url` or `client`, or for a bad `windowMs`. */
  constructor(options: RedisRateLimiterOptions) {
    this.windowMs = checkWindowMs(options.windowMs ?? DEFAULT_WINDOW_MS);
    this.keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    if (options.client !== undefined) {
      this.redis = options.client;
      this.ownsClient = false;
      this.target = `${this.redis.options.host ?? "?"}:${this.redis.options.port ?? "?"}`;
    } else if (options.url !== undefined) {
      const redisOptions: RedisOptions = {
        connectTimeout: options.connectTimeoutMs ?? 2000,
        commandTimeout: options.commandTimeoutMs ?? 5000,
        maxRetriesPerRequest: 1,
      };
      this.redis = new (loadRedis())(options.url, redisOptions);
      this.ownsClient = true;
      this.target = redactUrl(options.url);
    } else {
      throw new RangeError("RedisRateLimiter needs a url or a client");
    }
    // Without a listener ioredis prints every failed (re)connection; the last one explains a RateLimitStoreError.
    this.redis.on("error", (error: Error) => {
      this.lastConnectionError = error;
    });
    this.redis.on("ready", () => {
      this.lastConnectionError = null;
    });
  }

  /** The Redis keys holding `keyId`'s window: the request log and the token hash. */
  redisKeys(keyId: string): [requests: string, tokens: string] {
    const base = `${this.keyPrefix}{${keyId}}`;
    return [`${base}:req`, `${base}:tok`];
  }

  /** {@inheritDoc RateLimiter.acquire} */
  async acquire(keyId: string, request: AcquireRequest): Promise<RateLimitDecision> {
    const checked = checkAcquire(keyId, request);
    const reservationId = randomUUID();
    const args = [this.windowMs, checked.rpm, checked.tpm, checked.tokens, reservationId];
    const reply = integers(await this.run(ACQUIRE_SCRIPT, this.acquireSha, this.redisKeys(keyId), args), 7);
    const [allowed, reason, requests, tokens, requestsResetMs, tokensResetMs, retryAfterMs] = reply as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const outcome: WindowOutcome = {
      allowed: allowed === 1,
      reason: reason === 1 ? "requests" : reason === 2 ? "tokens" : null,
      requests,
      tokens,
      requestsResetMs,
      tokensResetMs,
      retryAfterMs,
    };
    return toDecision(outcome, checked, this.windowMs, reservationId);
  }

  /** {@inheritDoc RateLimiter.settle} */
  async settle(keyId: string, request: SettleRequest): Promise<boolean> {
    checkSettle(keyId, request);
    const args = [this.windowMs, request.reservationId, request.actualTokens];
    const reply = await this.run(SETTLE_SCRIPT, this.settleSha, this.redisKeys(keyId), args);
    return reply === 1;
  }

  /**
   * Checks that Redis answers (`PING`), for health endpoints.
   * @throws RateLimitStoreError when it does not
   */
  async ping(): Promise<void> {
    try {
      await this.redis.ping();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new RateLimitStoreError(`The Redis rate-limit store at ${this.target} did not answer: ${reason}`, error);
    }
  }

  /** {@inheritDoc RateLimiter.close} Leaves a caller-supplied `client` open. */
  async close(): Promise<void> {
    if (!this.ownsClient) return;
    if (this.redis.status === "ready") {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
  }

  /** Runs a script by its SHA1, loading it with EVAL when the server answers NOSCRIPT. */
  private async run(script: string, sha: string, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      try {
        return await this.redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
        return await this.redis.eval(script, keys.length, ...keys, ...args);
      }
    } catch (error) {
      if (error instanceof RateLimitStoreError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      const connection =
        this.lastConnectionError === null ? "" : ` (last connection error: ${this.lastConnectionError.message})`;
      throw new RateLimitStoreError(
        `The Redis rate-limit store at ${this.target} did not answer: ${reason}${connection}`,
        error,
      );
    }
  }
}
