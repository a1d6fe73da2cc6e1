/**
 * Anthropic errors → OpenAI error bodies. Anthropic answers
 * `{"type":"error","error":{"type","message"},"request_id"}` with the
 * statuses listed at https://docs.anthropic.com/en/api/errors; a stream that
 * already answered 200 reports a failure in-band as an `error` event with
 * the same `error` object and no status.
 *
 * Statuses are kept, except Anthropic's own 529 `overloaded_error`, which
 * becomes **503** (`server_error`): 529 is no standard status, OpenAI
 * clients know 503 as "overloaded, retry later", and the router retries
 * and falls back on any 5xx. The Anthropic error type is kept as the
 * OpenAI `code`, except that a prompt over the context window gets
 * OpenAI's `context_length_exceeded` (what `context_window_fallbacks` acts on).
 */
import { relayedUpstreamError, upstreamErrorCode } from "../error-codes.js";
import { RelayError } from "../errors.js";
import { upstreamHttpError } from "../upstream-errors.js";
import type { AnthropicErrorObject } from "./anthropic-types.js";

/** Anthropic error type → the status it comes with and the OpenAI `error.type` it becomes. */
const ERROR_TYPES: Record<string, { status: number; type: string }> = {
  invalid_request_error: { status: 400, type: "invalid_request_error" },
  authentication_error: { status: 401, type: "authentication_error" },
  billing_error: { status: 402, type: "invalid_request_error" },
  permission_error: { status: 403, type: "permission_error" },
  not_found_error: { status: 404, type: "not_found_error" },
  request_too_large: { status: 413, type: "invalid_request_error" },
  rate_limit_error: { status: 429, type: "rate_limit_error" },
  api_error: { status: 500, type: "server_error" },
  timeout_error: { status: 504, type: "server_error" },
  overloaded_error: { status: 503, type: "server_error" },
};

/** Anthropic's non-standard "overloaded" status. */
export const ANTHROPIC_OVERLOADED_STATUS = 529;

/** Messages of a 400 for a prompt over the context window ("prompt is too long: 215000 tokens > 200000 maximum", "input length and `max_tokens` exceed context limit: …"). */
const CONTEXT_LENGTH = /prompt is too long|exceed context limit/i;

/**
 * The RelayError for an Anthropic HTTP error response.
 * @param status the upstream's HTTP status (≥ 400); 529 is answered as 503
 * @param bodyText the upstream's body: Anthropic's error JSON, or anything else (e.g. an HTML page from a proxy), relayed as text
 * @param retryAfter the upstream's `retry-after` header (seconds), passed on to the client
 */
export function anthropicHttpError(status: number, bodyText: string, retryAfter?: string): RelayError {
  const relayedStatus = status === ANTHROPIC_OVERLOADED_STATUS ? 503 : status;
  const error = parseErrorObject(bodyText);
  if (!error) return upstreamHttpError(relayedStatus, bodyText, retryAfter);
  return toRelayError(error, relayedStatus, retryAfter);
}

/**
 * The RelayError for an in-band `error` event of a stream; the status is
 * the one the error type comes with over HTTP (`overloaded_error` → 503,
 * `rate_limit_error` → 429, unknown types → 502).
 */
export function anthropicStreamError(error: AnthropicErrorObject): RelayError {
  return toRelayError(error, ERROR_TYPES[error.type]?.status ?? 502);
}

function toRelayError(error: AnthropicErrorObject, status: number, retryAfter?: string): RelayError {
  const known = ERROR_TYPES[error.type];
  const contextLength = error.type === "invalid_request_error" && CONTEXT_LENGTH.test(error.message);
  return relayedUpstreamError({
    status,
    message: error.message || `Anthropic returned ${error.type}`,
    ...(known ? { type: known.type } : {}),
    code: contextLength ? "context_length_exceeded" : upstreamErrorCode(error.type),
    param: null,
    ...(retryAfter ? { headers: { "retry-after": retryAfter } } : {}),
  });
}

/** The `error` object of an Anthropic error body, or null when the body is not one. */
function parseErrorObject(bodyText: string): AnthropicErrorObject | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    return null;
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (!error || typeof error !== "object") return null;
  const { type, message } = error as Record<string, unknown>;
  if (typeof type !== "string") return null;
  return { type, message: typeof message === "string" ? message : "" };
}
