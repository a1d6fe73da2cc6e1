/**
 * OpenAI-style errors: the body `{"error":{"message","type","param","code"}}`
 * with the right HTTP status, as OpenAI's API reference documents
 * (https://platform.openai.com/docs/guides/error-codes).
 * The codes, with their status, type and class, are catalogued in ./error-codes.ts.
 */
import { relayError, uncodedError, type ErrorCode, type RelayErrorCode } from "./error-codes.js";

/** The JSON body of every error the proxy returns. */
export interface OpenAIErrorBody {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
    /** An upstream's extra fields kept when relayed (llama-server's `n_prompt_tokens`, `n_ctx`). */
    [field: string]: unknown;
  };
}

/** Coarse class of a failure, used in logs, records and (later) metrics. */
export type ErrorClass =
  | "invalid_request"
  | "not_found"
  | "payload_too_large"
  | "upstream_http"
  | "upstream_unreachable"
  | "upstream_timeout"
  | "upstream_protocol"
  | "internal";

/**
 * An error that knows its HTTP status and OpenAI error body.
 * Thrown by providers and request handling; the server turns it into
 * a response (before the first byte) or an in-band SSE error event (after).
 */
export class RelayError extends Error {
  /** HTTP status to answer with (400, 404, 413, 502, 504, or the upstream's status). */
  readonly status: number;
  /** OpenAI `error.type`, e.g. `invalid_request_error`. */
  readonly type: string;
  /** OpenAI `error.param`: the offending field, or null. */
  readonly param: string | null;
  /** OpenAI `error.code`: one of the catalog's (e.g. `model_not_found`), an upstream's own relayed as it came, or null. */
  readonly code: ErrorCode | null;
  /** Coarse class for logs and records. */
  readonly errorClass: ErrorClass;
  /** Response headers to pass on (e.g. an upstream's `retry-after`). */
  readonly headers: Record<string, string>;
  /** The upstream's whole answer, for an answer that was not what the protocol allows (kept in the record, never sent to the client); null otherwise. */
  readonly upstreamBody: string | null;
  /** Extra fields of `error` in the body (an upstream's own, e.g. llama-server's `n_prompt_tokens` and `n_ctx`); empty for most errors. */
  readonly bodyFields: Record<string, unknown>;
  /**
   * The prompt's size in tokens as the backend's tokenizer counted it (its `/tokenize`, `/api/extra/tokencount`, or the
   * upstream's own `n_prompt_tokens`), when the request was refused for its size; the record's `input_tokens`. Null otherwise.
   */
  readonly promptTokens: number | null;

  constructor(init: {
    status: number;
    message: string;
    type?: string;
    param?: string | null;
    code?: ErrorCode | null;
    errorClass: ErrorClass;
    headers?: Record<string, string>;
    upstreamBody?: string | null;
    bodyFields?: Record<string, unknown>;
    promptTokens?: number | null;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "RelayError";
    this.status = init.status;
    this.type = init.type ?? defaultType(init.status);
    this.param = init.param ?? null;
    this.code = init.code ?? null;
    this.errorClass = init.errorClass;
    this.headers = init.headers ?? {};
    this.upstreamBody = init.upstreamBody ?? null;
    this.bodyFields = init.bodyFields ?? {};
    this.promptTokens = init.promptTokens ?? null;
  }

  /** The OpenAI error body of this error (with {@link bodyFields} after OpenAI's four fields). */
  toBody(): OpenAIErrorBody {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code, ...this.bodyFields },
    };
  }

  /**
   * What the record keeps of this error (`responses.response_json`): the
   * OpenAI error body, plus `upstream_body` (the upstream's whole answer)
   * when there is one.
   */
  toRecordJson(): Record<string, unknown> {
    const body = this.toBody() as unknown as Record<string, unknown>;
    return this.upstreamBody === null ? body : { ...body, upstream_body: this.upstreamBody };
  }
}

/** Characters of an upstream answer quoted in an error message. */
const QUOTED_CHARS = 200;

/** The start of an upstream answer for an error message: its first 200 characters, `…` when there is more. */
export function quoteUpstream(text: string): string {
  return text.length > QUOTED_CHARS ? `${text.slice(0, QUOTED_CHARS)}…` : text;
}

/**
 * 502 `upstream_invalid_response` (type `server_error`, class
 * `upstream_protocol`): the upstream answered with a success status but
 * with something the protocol does not allow (not JSON, cut short, not a
 * `chat.completion`). The message quotes the start of the answer; the
 * whole answer rides along in {@link RelayError.upstreamBody} for the
 * record. Like any 5xx it is retried and falls back (src/routing/retry-policy.ts).
 * @param what the complaint, e.g. "The upstream http://host:1234 sent invalid JSON"
 * @param body the upstream's answer as received
 */
export function upstreamInvalidResponse(what: string, body: string): RelayError {
  return relayError("upstream_invalid_response", `${what}: ${quoteUpstream(body)}`, { upstreamBody: body });
}

function defaultType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** 503 `server_shutting_down`: a graceful stop cancelled the request, or it arrived during the stop; the client may retry (elsewhere). */
export function serverShuttingDown(): RelayError {
  return relayError("server_shutting_down", "The server is shutting down; retry the request.");
}

/**
 * 400 `invalid_request_error` for a body that fails validation; `param` names the field (e.g. `messages.2.role`).
 * @param code a 400 code of the catalog (e.g. `invalid_value`), or null
 */
export function invalidRequest(
  message: string,
  param: string | null = null,
  code: RelayErrorCode | null = null,
): RelayError {
  if (code !== null) return relayError(code, message, { param });
  return new RelayError({ status: 400, message, param, type: "invalid_request_error", errorClass: "invalid_request" });
}

/** 404 `model_not_found` for a model name no deployment serves. */
export function modelNotFound(model: string): RelayError {
  return relayError(
    "model_not_found",
    `The model '${model}' does not exist or is not routed by this llm-relay (no deployment matches and no default_model is set).`,
  );
}

/** Turns anything thrown into a RelayError (500 for what is not one already). */
export function toRelayError(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return uncodedError(`Internal error: ${message}`, 500, error);
}
