/**
 * The errors of rate limiting, as RelayErrors the server can answer with:
 * the 429 of a refused request (OpenAI's body and headers) and the 503 of
 * an unreachable shared store.
 */
import { ERROR_CODES, errors } from "../protocol/error-codes.js";
import { RelayError } from "../protocol/errors.js";
import { formatResetDuration } from "./headers.js";
import type { RateLimitRefused } from "./types.js";

/** Options of {@link rateLimitError}. */
export interface RateLimitErrorOptions {
  /**
   * Who hit the limit, as the message names it (OpenAI names the model and
   * organization), e.g. `key lr-abc1…`; default `this API key`.
   */
  subject?: string;
}

function windowLabel(reason: RateLimitRefused["reason"], windowMs: number): string {
  const unit = reason === "requests" ? "requests" : "tokens";
  if (windowMs === 60_000) return `${unit} per min (${reason === "requests" ? "RPM" : "TPM"})`;
  return `${unit} per ${formatResetDuration(windowMs)}`;
}

/**
 * The 429 for a refused request, shaped like OpenAI's own: status 429,
 * `error.type` = the refusing limit (`"requests"` or `"tokens"`), `error.code`
 * = `"rate_limit_exceeded"`, `param` null, and a message in OpenAI's wording
 * ("Rate limit reached for … on requests per min (RPM): Limit 10, Used 10,
 * Requested 1. Please try again in 6s." or, for a request larger than the
 * whole tpm, "Request too large for … on tokens per min (TPM): Limit 100,
 * Requested 150. …"; shapes in test/ratelimit/fixtures/openai-rate-limit.json).
 * The error's `headers` are the refusal's: `x-ratelimit-*`, `retry-after`,
 * `retry-after-ms`.
 */
export function rateLimitError(refusal: RateLimitRefused, options: RateLimitErrorOptions = {}): RelayError {
  const subject = options.subject ?? "this API key";
  const label = windowLabel(refusal.reason, refusal.windowMs);
  const message = refusal.exceedsLimit
    ? `Request too large for ${subject} on ${label}: Limit ${refusal.limit}, Requested ${refusal.requested}. ` +
      "The input or output tokens must be reduced in order to run successfully."
    : `Rate limit reached for ${subject} on ${label}: Limit ${refusal.limit}, Used ${refusal.used}, ` +
      `Requested ${refusal.requested}. Please try again in ${formatResetDuration(refusal.retryAfterMs)}.`;
  return errors.rateLimitExceeded(message, { type: refusal.reason, headers: refusal.headers });
}

/**
 * The shared store of limits (Redis) could not answer: unreachable, timed
 * out, or failing. A RelayError with status 503, type `server_error`, code
 * `rate_limiter_unavailable`; the message names the store (password
 * redacted) and the cause. The server decides whether to refuse (fail
 * closed, the default this error suggests) or let the request through.
 */
export class RateLimitStoreError extends RelayError {
  constructor(message: string, cause?: unknown) {
    const { status, type, errorClass } = ERROR_CODES.rate_limiter_unavailable;
    super({ status, message, type, code: "rate_limiter_unavailable", errorClass, cause });
    this.name = "RateLimitStoreError";
  }
}
