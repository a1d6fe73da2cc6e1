/**
 * Per-key rate limits (requests and tokens per minute), in memory for one
 * proxy or in Redis for several. See `types.ts` for the contract and
 * `redis-limiter.ts` for the algorithm and why it was chosen.
 */
import { MemoryRateLimiter } from "./memory-limiter.js";
import { RedisRateLimiter } from "./redis-limiter.js";
import type { RateLimiter } from "./types.js";

export type {
  AcquireRequest,
  RateLimitAllowed,
  RateLimitDecision,
  RateLimitHeaders,
  RateLimiter,
  RateLimitReason,
  RateLimitRefused,
  RateLimits,
  SettleRequest,
} from "./types.js";
export { MemoryRateLimiter, type MemoryRateLimiterOptions } from "./memory-limiter.js";
export { RedisRateLimiter, DEFAULT_KEY_PREFIX, type RedisRateLimiterOptions } from "./redis-limiter.js";
export { rateLimitError, RateLimitStoreError, type RateLimitErrorOptions } from "./errors.js";
export { formatResetDuration, rateLimitHeaders, retryAfterHeaders } from "./headers.js";
export { DEFAULT_WINDOW_MS } from "./decision.js";

/** Options of {@link createRateLimiter}. */
export interface CreateRateLimiterOptions {
  /** The config's `redis_url`: when set, limits live in Redis and are shared by every proxy using it. */
  redisUrl?: string | null;
  /** Prefix of the Redis keys (Redis only). */
  keyPrefix?: string;
  /** Window length in ms; default 60 000. */
  windowMs?: number;
}

/**
 * The limiter a proxy should use: {@link RedisRateLimiter} when `redisUrl`
 * is set, else {@link MemoryRateLimiter}. Call `close()` on shutdown.
 */
export function createRateLimiter(options: CreateRateLimiterOptions = {}): RateLimiter {
  const { redisUrl, keyPrefix, windowMs } = options;
  if (redisUrl != null && redisUrl !== "") {
    return new RedisRateLimiter({
      url: redisUrl,
      ...(keyPrefix === undefined ? {} : { keyPrefix }),
      ...(windowMs === undefined ? {} : { windowMs }),
    });
  }
  return new MemoryRateLimiter(windowMs === undefined ? {} : { windowMs });
}
