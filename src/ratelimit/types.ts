/**
 * The rate-limiter contract: requests per minute (rpm) and tokens per minute
 * (tpm) per API key, checked and reserved before a request is sent upstream
 * and corrected once the upstream reports its usage.
 *
 * Two implementations share it: {@link MemoryRateLimiter} (one process) and
 * {@link RedisRateLimiter} (several proxies sharing one count). Both use a
 * sliding-window log: every admitted request is remembered with its time
 * and token reservation for exactly one window, so "at most `rpm` requests
 * and `tpm` tokens in any window" holds exactly, not approximately.
 */

/** The limits of one key for one `acquire`; an absent limit is not enforced. */
export interface RateLimits {
  /** Requests allowed per window (a minute in production); a positive integer, or undefined/null for no limit. */
  rpm?: number | null;
  /** Tokens allowed per window; a positive integer, or undefined/null for no limit. */
  tpm?: number | null;
}

/** What the server asks before sending a request upstream. */
export interface AcquireRequest extends RateLimits {
  /**
   * Tokens this request is expected to use (prompt tokens plus `max_tokens`,
   * as OpenAI estimates); reserved against `tpm` until {@link RateLimiter.settle}
   * corrects it. A non-negative integer; default 0.
   */
  estimatedTokens?: number;
}

/**
 * Response headers describing the key's limits, named and formatted as
 * OpenAI's (https://platform.openai.com/docs/guides/rate-limits, "Rate limits
 * in headers"): counts as decimal strings, resets as durations such as `"1s"`,
 * `"6m0s"`, `"12ms"`. Only the headers of the limits that are set are present;
 * a refusal adds `retry-after` (whole seconds, rounded up) and `retry-after-ms`
 * (read by the `openai` SDKs before `retry-after`).
 */
export type RateLimitHeaders = Record<string, string>;

/** Which limit refused a request. */
export type RateLimitReason = "requests" | "tokens";

/** An admitted request: its reservation is counted until the window slides past it. */
export interface RateLimitAllowed {
  allowed: true;
  /** Identifies the reservation for {@link RateLimiter.settle}. */
  reservationId: string;
  /** Tokens reserved (the request's `estimatedTokens`). */
  reservedTokens: number;
  /** Headers to send with the answer (see {@link RateLimitHeaders}). */
  headers: RateLimitHeaders;
}

/** A refused request: nothing was reserved. */
export interface RateLimitRefused {
  allowed: false;
  /** The limit that refused it (`requests` when both would). */
  reason: RateLimitReason;
  /** Milliseconds until enough of the window has slid past for this same request to be admitted (> 0). */
  retryAfterMs: number;
  /** The limit that refused it (rpm or tpm). */
  limit: number;
  /** Requests or tokens (per `reason`) already counted in the window. */
  used: number;
  /** Requests (1) or tokens (per `reason`) this request asked for. */
  requested: number;
  /** True when `requested` alone exceeds the limit: waiting cannot help, the request must shrink. */
  exceedsLimit: boolean;
  /** Window length in ms (for messages: "per min" when 60 000). */
  windowMs: number;
  /** Headers to send with the 429, including `retry-after`. */
  headers: RateLimitHeaders;
}

/** The answer of {@link RateLimiter.acquire}. */
export type RateLimitDecision = RateLimitAllowed | RateLimitRefused;

/** The correction the server sends once the real usage is known. */
export interface SettleRequest {
  /** The `reservationId` of the admitted request. */
  reservationId: string;
  /** Tokens the request really used (prompt + completion); a non-negative integer. */
  actualTokens: number;
}

/**
 * Per-key request and token limits over a sliding window.
 *
 * Wiring into a server is two calls around the upstream call:
 * ```ts
 * const decision = await limiter.acquire(key.id, { rpm: key.rpm, tpm: key.tpm, estimatedTokens });
 * if (!decision.allowed) throw rateLimitError(decision);   // 429 + headers, OpenAI body
 * reply.headers(decision.headers);
 * // … call upstream …
 * await limiter.settle(key.id, { reservationId: decision.reservationId, actualTokens: usage.total_tokens });
 * ```
 */
export interface RateLimiter {
  /** Window length in ms (60 000 = per minute). */
  readonly windowMs: number;
  /**
   * Checks both limits and, when both admit the request, records it (one
   * request, `estimatedTokens` tokens) atomically: concurrent acquires never
   * admit more than the limits, wherever they run.
   * @throws RangeError for a limit or estimate that is not a non-negative integer
   *   (limits must be positive); {@link RateLimitStoreError} when the shared store is unreachable.
   */
  acquire(keyId: string, request: AcquireRequest): Promise<RateLimitDecision>;
  /**
   * Replaces a reservation's token count with the real usage; the request
   * keeps its place (time) in the window. Returns false when the reservation
   * has already left the window (nothing left to correct).
   * @throws RangeError for a negative or fractional `actualTokens`;
   *   {@link RateLimitStoreError} when the shared store is unreachable.
   */
  settle(keyId: string, request: SettleRequest): Promise<boolean>;
  /** Releases the limiter's resources (the Redis connection); later calls fail. */
  close(): Promise<void>;
}
