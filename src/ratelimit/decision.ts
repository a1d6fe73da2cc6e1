/**
 * What both limiter implementations share: argument checks, and turning the
 * store's raw window outcome into a {@link RateLimitDecision} with headers.
 */
import { rateLimitHeaders, retryAfterHeaders } from "./headers.js";
import type { AcquireRequest, RateLimitDecision, RateLimitReason, SettleRequest } from "./types.js";

/** Default window: one minute, so rpm/tpm mean per minute. */
export const DEFAULT_WINDOW_MS = 60_000;

/** An acquire's arguments after validation; 0 means "no limit" for rpm/tpm. */
export interface CheckedAcquire {
  rpm: number;
  tpm: number;
  tokens: number;
}

/**
 * The store's answer to an acquire, before headers are built. Counts
 * include the new request when it was admitted.
 */
export interface WindowOutcome {
  allowed: boolean;
  /** Which limit refused (only when refused). */
  reason: RateLimitReason | null;
  /** Requests in the window. */
  requests: number;
  /** Tokens in the window. */
  tokens: number;
  /** ms until the newest counted request leaves the window (0 when none). */
  requestsResetMs: number;
  /** ms until the newest counted token reservation leaves the window (0 when none). */
  tokensResetMs: number;
  /** ms until this request would be admitted (only when refused). */
  retryAfterMs: number;
}

function checkCount(name: string, value: number, allowZero: boolean): number {
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new RangeError(
      `${name} must be ${allowZero ? "a non-negative" : "a positive"} integer, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Validates a window length.
 * @throws RangeError unless a positive integer of ms.
 */
export function checkWindowMs(windowMs: number): number {
  return checkCount("windowMs", windowMs, false);
}

/**
 * Validates an acquire request (limits positive integers or absent, estimate
 * a non-negative integer) and the key id (non-empty).
 * @throws RangeError on a bad value.
 */
export function checkAcquire(keyId: string, request: AcquireRequest): CheckedAcquire {
  if (keyId.length === 0) throw new RangeError("keyId must not be empty");
  return {
    rpm: request.rpm == null ? 0 : checkCount("rpm", request.rpm, false),
    tpm: request.tpm == null ? 0 : checkCount("tpm", request.tpm, false),
    tokens: checkCount("estimatedTokens", request.estimatedTokens ?? 0, true),
  };
}

/**
 * Validates a settle request.
 * @throws RangeError for an empty key or reservation id, or a bad `actualTokens`.
 */
export function checkSettle(keyId: string, request: SettleRequest): void {
  if (keyId.length === 0) throw new RangeError("keyId must not be empty");
  if (request.reservationId.length === 0) throw new RangeError("reservationId must not be empty");
  checkCount("actualTokens", request.actualTokens, true);
}

/** Builds the decision (with OpenAI's headers) from a store's window outcome. */
export function toDecision(
  outcome: WindowOutcome,
  checked: CheckedAcquire,
  windowMs: number,
  reservationId: string,
): RateLimitDecision {
  const headers = rateLimitHeaders({
    rpm: checked.rpm > 0 ? checked.rpm : undefined,
    tpm: checked.tpm > 0 ? checked.tpm : undefined,
    requests: outcome.requests,
    tokens: outcome.tokens,
    requestsResetMs: outcome.requestsResetMs,
    tokensResetMs: outcome.tokensResetMs,
  });
  if (outcome.allowed) return { allowed: true, reservationId, reservedTokens: checked.tokens, headers };
  const reason: RateLimitReason = outcome.reason ?? "requests";
  const limit = reason === "requests" ? checked.rpm : checked.tpm;
  const requested = reason === "requests" ? 1 : checked.tokens;
  return {
    allowed: false,
    reason,
    retryAfterMs: outcome.retryAfterMs,
    limit,
    used: reason === "requests" ? outcome.requests : outcome.tokens,
    requested,
    exceedsLimit: requested > limit,
    windowMs,
    headers: { ...headers, ...retryAfterHeaders(outcome.retryAfterMs) },
  };
}
