/**
 * Maps what can go wrong talking to an HTTP upstream to OpenAI-style
 * errors: connection failures → 502, timeouts → 504, an upstream's own
 * HTTP error → its status and message.
 */
import { ERROR_CODES, errors, relayedUpstreamError, upstreamErrorCode, type UpstreamErrorCode } from "./error-codes.js";
import { RelayError } from "./errors.js";

const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNRESET",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

/**
 * Turns an error thrown by undici into a RelayError.
 * @param error what undici threw
 * @param target a short name of the upstream for the message (origin)
 * @param timeoutMs the deployment's first-byte/idle timeout, for the message
 */
export function mapTransportError(error: unknown, target: string, timeoutMs: number): RelayError {
  if (error instanceof RelayError) return error;
  const code = errorCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (code === "UND_ERR_CONNECT_TIMEOUT") {
    return timeout(`Timed out connecting to the upstream ${target}`, error);
  }
  if (code === "UND_ERR_HEADERS_TIMEOUT") {
    return timeout(`The upstream ${target} sent no response within ${timeoutMs} ms`, error);
  }
  if (code === "UND_ERR_BODY_TIMEOUT") {
    return timeout(`The upstream ${target} sent nothing for ${timeoutMs} ms (idle timeout)`, error);
  }
  if (code && UNREACHABLE.has(code)) {
    return errors.upstreamUnreachable(
      `The upstream ${target} is unreachable or closed the connection (${code}: ${detail})`,
      { cause: error },
    );
  }
  return errors.upstreamError(`Request to the upstream ${target} failed: ${detail}`, { cause: error });
}

function timeout(message: string, cause: unknown): RelayError {
  return errors.upstreamTimeout(message, { cause });
}

/** The `code` of an error or of its cause (undici wraps socket errors). */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Builds the RelayError for an upstream HTTP error response, keeping its
 * status and message. Understands OpenAI's `{"error":{…}}`, a plain
 * `{"error":"…"}`, FastAPI's `{"detail":…}` and plain text.
 * @param status the upstream's HTTP status (≥ 400)
 * @param bodyText the upstream's response body
 * @param retryAfter the upstream's `retry-after` header, passed on to the client
 */
export function upstreamHttpError(status: number, bodyText: string, retryAfter?: string): RelayError {
  const contextError = upstreamContextError(status, bodyText);
  if (contextError) return contextError;
  let message = bodyText.trim().slice(0, 1000) || `Upstream returned HTTP ${status}`;
  let type: string | undefined;
  let code: UpstreamErrorCode | null = null;
  let param: string | null = null;
  try {
    const parsed = JSON.parse(bodyText) as Record<string, unknown>;
    const error = parsed.error ?? parsed.detail;
    if (typeof error === "string") message = error;
    else if (error && typeof error === "object") {
      const fields = error as Record<string, unknown>;
      const text = fields.message ?? fields.msg;
      if (typeof text === "string") message = text;
      if (typeof fields.type === "string") type = fields.type;
      if (typeof fields.code === "string") code = upstreamErrorCode(fields.code);
      if (typeof fields.param === "string") param = fields.param;
    }
  } catch {
    // not JSON: keep the text
  }
  return relayedUpstreamError({
    status,
    message,
    ...(type ? { type } : {}),
    code,
    param,
    ...(retryAfter ? { headers: { "retry-after": retryAfter } } : {}),
  });
}

/**
 * llama-server's answer to a prompt over its context window (releases since
 * mid-2025, tools/server `exceed_context_size_error`; captured in
 * ../shared/fixtures/protocols/llama-server-2026-09.txt):
 * `{"error":{"code":400,"message":…,"type":"exceed_context_size_error","n_prompt_tokens":643,"n_ctx":256}}`.
 * Relayed in OpenAI's shape (https://platform.openai.com/docs/guides/error-codes): 400,
 * `type: invalid_request_error`, `param: messages`, `code: context_length_exceeded` (so
 * `context_window_fallbacks` apply), its message, and its `n_prompt_tokens` and `n_ctx` (tokens) kept
 * as extra fields; `n_prompt_tokens` is also the error's {@link RelayError.promptTokens} (the record's `input_tokens`).
 * @param status the upstream's HTTP status
 * @param bodyText the upstream's response body
 * @returns the error, or null when the body is not this error
 */
export function upstreamContextError(status: number, bodyText: string): RelayError | null {
  if (!bodyText.includes("exceed_context_size_error")) return null;
  let error: Record<string, unknown>;
  try {
    const parsed = JSON.parse(bodyText) as { error?: unknown };
    if (!parsed || typeof parsed.error !== "object" || parsed.error === null) return null;
    error = parsed.error as Record<string, unknown>;
  } catch {
    return null;
  }
  if (error.type !== "exceed_context_size_error") return null;
  const count = (value: unknown) =>
    typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
  const promptTokens = count(error.n_prompt_tokens);
  const contextWindow = count(error.n_ctx);
  return relayedUpstreamError({
    status: status >= 400 && status < 500 ? status : 400,
    message: typeof error.message === "string" ? error.message : `The prompt exceeds the upstream's context window`,
    type: ERROR_CODES.context_length_exceeded.type,
    param: ERROR_CODES.context_length_exceeded.param,
    code: "context_length_exceeded",
    bodyFields: {
      ...(promptTokens === undefined ? {} : { n_prompt_tokens: promptTokens }),
      ...(contextWindow === undefined ? {} : { n_ctx: contextWindow }),
    },
    promptTokens: promptTokens ?? null,
  });
}
