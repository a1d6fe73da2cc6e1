/**
 * OpenAI's rate-limit response headers (https://platform.openai.com/docs/guides/rate-limits,
 * "Rate limits in headers"): `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`.
 * Limits and remainders are integers; resets are durations in the form OpenAI
 * sends (sample values `1s`, `6m0s`; observed `12ms`, `1.146s`), i.e. Go's
 * `time.Duration` notation.
 */
import type { RateLimitHeaders } from "./types.js";

/**
 * Formats a duration as OpenAI's reset headers and messages do: under a
 * second `"12ms"`; otherwise hours, minutes and seconds with up to three
 * decimals, leading zero units omitted (`"1s"`, `"1.5s"`, `"6m0s"`, `"1h2m3s"`).
 * @param ms duration in milliseconds; 0 or less gives `"0s"`, fractions of a ms are rounded up.
 */
export function formatResetDuration(ms: number): string {
  const total = Math.ceil(ms);
  if (!(total > 0)) return "0s";
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const secondsMs = total % 60_000;
  const seconds = (secondsMs / 1000).toFixed(3).replace(/\.?0+$/, "");
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** The state of one key's window, as the headers report it. */
export interface WindowHeaderState {
  /** rpm, or undefined when requests are not limited (no request headers then). */
  rpm: number | undefined;
  /** tpm, or undefined when tokens are not limited (no token headers then). */
  tpm: number | undefined;
  /** Requests counted in the window. */
  requests: number;
  /** Tokens counted in the window. */
  tokens: number;
  /** ms until every counted request has left the window (the request limit is back to its initial state). */
  requestsResetMs: number;
  /** ms until every counted token has left the window. */
  tokensResetMs: number;
}

/**
 * The `x-ratelimit-*` headers for a window state; only those of the limits
 * that are set. Remainders never go below 0.
 */
export function rateLimitHeaders(state: WindowHeaderState): RateLimitHeaders {
  const headers: RateLimitHeaders = {};
  if (state.rpm !== undefined) {
    headers["x-ratelimit-limit-requests"] = String(state.rpm);
    headers["x-ratelimit-remaining-requests"] = String(Math.max(0, state.rpm - state.requests));
    headers["x-ratelimit-reset-requests"] = formatResetDuration(state.requestsResetMs);
  }
  if (state.tpm !== undefined) {
    headers["x-ratelimit-limit-tokens"] = String(state.tpm);
    headers["x-ratelimit-remaining-tokens"] = String(Math.max(0, state.tpm - state.tokens));
    headers["x-ratelimit-reset-tokens"] = formatResetDuration(state.tokensResetMs);
  }
  return headers;
}

/**
 * The headers of a refusal: `retry-after` in whole seconds (rounded up, at
 * least 1, RFC 9110 §10.2.3) and `retry-after-ms`, which the `openai` SDKs
 * read first for a sub-second wait.
 * @param retryAfterMs ms until the request would be admitted.
 */
export function retryAfterHeaders(retryAfterMs: number): RateLimitHeaders {
  const ms = Math.max(1, Math.ceil(retryAfterMs));
  return { "retry-after": String(Math.ceil(ms / 1000)), "retry-after-ms": String(ms) };
}
