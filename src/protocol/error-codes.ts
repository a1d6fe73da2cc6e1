/**
 * The catalog of the error codes llm-relay answers with: each `error.code`
 * once, with the HTTP status, the OpenAI `error.type` and the
 * {@link ErrorClass} it always comes with, and a factory per code
 * (`errors.upstreamTruncated(message)`, …) returning a {@link RelayError}.
 *
 * The body follows OpenAI's error shape (`{"error":{"message","type","param","code"}}`,
 * https://platform.openai.com/docs/guides/error-codes). An upstream's own
 * codes, relayed as they are, are typed apart ({@link UpstreamErrorCode},
 * made with {@link upstreamErrorCode}) so that a code llm-relay itself writes
 * is always one of {@link RelayErrorCode}.
 *
 * Note: this module and ./errors.ts import each other; every use of the other
 * module is inside a function body, never at load time.
 */
import { RelayError, type ErrorClass } from "./errors.js";

/** The OpenAI `error.type` values llm-relay itself writes (`requests`/`tokens` are OpenAI's rate-limit types). */
export type RelayErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "insufficient_quota"
  | "requests"
  | "tokens"
  | "server_error";

/** What a code always comes with. */
export interface ErrorCodeSpec {
  /** HTTP status (499 for a call the caller or client gave up on, as nginx logs it). */
  readonly status: number;
  /** OpenAI `error.type`. */
  readonly type: RelayErrorType;
  /** Coarse class for logs, records and metrics. */
  readonly errorClass: ErrorClass;
  /** `error.param` when the factory is not given one (the field the code is about), else null. */
  readonly param?: string;
}

const invalid = { status: 400, type: "invalid_request_error", errorClass: "invalid_request" } as const;
const unavailable = { status: 503, type: "server_error", errorClass: "internal" } as const;
const forbidden = { status: 403, type: "permission_error", errorClass: "invalid_request" } as const;
const failedInside = { status: 500, type: "server_error", errorClass: "internal" } as const;
const badUpstreamAnswer = { status: 502, type: "server_error", errorClass: "upstream_protocol" } as const;

/** Every code llm-relay writes, once. */
export const ERROR_CODES = {
  // The request itself (400 unless the status says more).
  invalid_request: invalid,
  invalid_value: invalid,
  missing_required_parameter: invalid,
  invalid_json: invalid,
  json_too_deep: invalid,
  invalid_url: invalid,
  invalid_http: invalid,
  missing_host: invalid,
  invalid_content_length: invalid,
  invalid_argument: invalid,
  invalid_operation: invalid,
  invalid_key_id: invalid,
  invalid_idempotency_key: invalid,
  reserved_idempotency_key: invalid,
  embeddings_not_supported: invalid,
  invalid_chat_template: invalid,
  chat_template_error: invalid,
  chat_template_not_found: invalid,
  context_length_exceeded: { ...invalid, param: "messages" },
  invalid_api_key: { status: 401, type: "invalid_request_error", errorClass: "invalid_request" },
  model_not_allowed: { ...forbidden, param: "model" },
  /** A caller with a USD budget asked for a model with no price (admission; `allow_unpriced` lifts it). */
  model_not_priced: { ...forbidden, param: "model" },
  admin_disabled: forbidden,
  tenant_forbidden: forbidden,
  key_forbidden: forbidden,
  model_not_found: { status: 404, type: "invalid_request_error", errorClass: "not_found", param: "model" },
  unknown_url: { status: 404, type: "invalid_request_error", errorClass: "not_found" },
  /** A recorded response (`GET /v1/responses/{id}`, `previous_response_id`) the caller has none of: OpenAI's own code for it. */
  not_found: { status: 404, type: "invalid_request_error", errorClass: "not_found" },
  method_not_allowed: { status: 405, type: "invalid_request_error", errorClass: "invalid_request" },
  request_timeout: { status: 408, type: "invalid_request_error", errorClass: "invalid_request" },
  idempotency_in_progress: { status: 409, type: "invalid_request_error", errorClass: "invalid_request" },
  idempotency_key_conflict: { status: 409, type: "invalid_request_error", errorClass: "invalid_request" },
  request_too_large: { status: 413, type: "invalid_request_error", errorClass: "payload_too_large" },
  url_too_long: { status: 414, type: "invalid_request_error", errorClass: "invalid_request" },
  unsupported_media_type: { status: 415, type: "invalid_request_error", errorClass: "invalid_request" },
  expectation_failed: { status: 417, type: "invalid_request_error", errorClass: "invalid_request" },
  idempotency_key_reused: { status: 422, type: "invalid_request_error", errorClass: "invalid_request" },
  request_header_fields_too_large: { status: 431, type: "invalid_request_error", errorClass: "invalid_request" },
  budget_exceeded: { status: 429, type: "insufficient_quota", errorClass: "invalid_request" },
  /** Type `requests` or `tokens` (which limit refused), given to the factory. */
  rate_limit_exceeded: { status: 429, type: "requests", errorClass: "invalid_request" },
  // Given up on by the caller or the client.
  aborted: { status: 499, type: "invalid_request_error", errorClass: "internal" },
  cancelled: { status: 499, type: "server_error", errorClass: "internal" },
  // llm-relay itself.
  client_closed: failedInside,
  provider_misconfigured: failedInside,
  model_load_failed: failedInside,
  generation_failed: failedInside,
  provider_unavailable: { status: 501, type: "server_error", errorClass: "internal" },
  server_busy: unavailable,
  server_shutting_down: unavailable,
  degraded: unavailable,
  idempotency_unavailable: unavailable,
  rate_limiter_unavailable: unavailable,
  // The upstream.
  /** Class `upstream_unreachable` (the request failed); `upstream_http` when the upstream answered with an error (given to the factory). */
  upstream_error: { status: 502, type: "server_error", errorClass: "upstream_unreachable" },
  upstream_unreachable: { status: 502, type: "server_error", errorClass: "upstream_unreachable" },
  upstream_truncated: badUpstreamAnswer,
  upstream_invalid_response: badUpstreamAnswer,
  upstream_protocol: badUpstreamAnswer,
  bad_response: badUpstreamAnswer,
  upstream_timeout: { status: 504, type: "server_error", errorClass: "upstream_timeout" },
  timeout: { status: 504, type: "server_error", errorClass: "upstream_timeout" },
} as const satisfies Record<string, ErrorCodeSpec>;

/** A code llm-relay writes: a key of {@link ERROR_CODES}. */
export type RelayErrorCode = keyof typeof ERROR_CODES;

declare const upstreamCodeBrand: unique symbol;
/** An upstream's own `error.code` (or Anthropic's error type), relayed as it came; made with {@link upstreamErrorCode}. */
export type UpstreamErrorCode = string & { readonly [upstreamCodeBrand]: true };

/** Any `error.code` a {@link RelayError} carries (besides null). */
export type ErrorCode = RelayErrorCode | UpstreamErrorCode;

/** Marks `code` as an upstream's own, to be relayed unchanged. */
export function upstreamErrorCode(code: string): UpstreamErrorCode {
  return code as UpstreamErrorCode;
}

/** Whether `code` is one of the catalog's. */
export function isRelayErrorCode(code: unknown): code is RelayErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}

/** What a factory may add to the catalog's status, type and class. */
export interface ErrorExtras {
  /** `error.param`: the offending field; default the catalog's, else null. */
  param?: string | null;
  /** Response headers to pass on (e.g. `retry-after` in seconds). */
  headers?: Record<string, string>;
  /** The error this one reports. */
  cause?: unknown;
  /** The upstream's whole answer (kept in the record, never sent). */
  upstreamBody?: string | null;
  /** Extra fields of the body's `error`. */
  bodyFields?: Record<string, unknown>;
  /** The prompt's size in tokens as the backend counted it, for a request refused for its size. */
  promptTokens?: number | null;
  /** Only for `rate_limit_exceeded`: which limit refused (`requests` or `tokens`). */
  type?: "requests" | "tokens";
  /** Only for `upstream_error`: `upstream_http` when the upstream answered with an error. */
  errorClass?: "upstream_http";
}

/** The RelayError for `code` with the catalog's status, type and class. */
export function relayError(code: RelayErrorCode, message: string, extras: ErrorExtras = {}): RelayError {
  const spec: ErrorCodeSpec = ERROR_CODES[code];
  return new RelayError({
    status: spec.status,
    message,
    type: extras.type ?? spec.type,
    param: extras.param !== undefined ? extras.param : (spec.param ?? null),
    code,
    errorClass: extras.errorClass ?? spec.errorClass,
    ...(extras.headers === undefined ? {} : { headers: extras.headers }),
    ...(extras.upstreamBody === undefined ? {} : { upstreamBody: extras.upstreamBody }),
    ...(extras.bodyFields === undefined ? {} : { bodyFields: extras.bodyFields }),
    ...(extras.promptTokens === undefined ? {} : { promptTokens: extras.promptTokens }),
    ...(extras.cause === undefined ? {} : { cause: extras.cause }),
  });
}

/** `snake_case` → `camelCase`, as the factories are named. */
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** One factory per code: `errors.upstreamTruncated(message)` is `relayError("upstream_truncated", message)`. */
export type ErrorFactories = {
  readonly [C in RelayErrorCode as CamelCase<C>]: (message: string, extras?: ErrorExtras) => RelayError;
};

function camelCase(code: string): string {
  return code.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** The factories, one per code of {@link ERROR_CODES}. */
export const errors: ErrorFactories = Object.fromEntries(
  (Object.keys(ERROR_CODES) as RelayErrorCode[]).map((code) => [
    camelCase(code),
    (message: string, extras?: ErrorExtras) => relayError(code, message, extras),
  ]),
) as unknown as ErrorFactories;

/** An upstream's error answer, relayed with its own status, type, code and param (class `upstream_http`). */
export interface RelayedUpstreamError {
  /** The status to answer with (the upstream's, or the one its error type comes with). */
  status: number;
  message: string;
  /** The upstream's `error.type`; absent → the one OpenAI uses for the status. */
  type?: string;
  /** The upstream's code ({@link upstreamErrorCode}), a catalog code it maps to, or null. */
  code: ErrorCode | null;
  param?: string | null;
  headers?: Record<string, string>;
  bodyFields?: Record<string, unknown>;
  promptTokens?: number | null;
}

/** The RelayError for an upstream's error answer relayed as it came (class `upstream_http`). */
export function relayedUpstreamError(init: RelayedUpstreamError): RelayError {
  return new RelayError({ ...init, errorClass: "upstream_http" });
}

/**
 * An error without a code: 500 `server_error` (class `internal`) for a failure inside llm-relay, or
 * another status for what a framework reported with one (a 4xx keeps `invalid_request_error`, class `invalid_request`).
 * @param status HTTP status, default 500
 */
export function uncodedError(message: string, status = 500, cause?: unknown): RelayError {
  return new RelayError({
    status,
    message,
    ...(status < 500
      ? { errorClass: "invalid_request" as const }
      : { type: "server_error", errorClass: "internal" as const }),
    ...(cause === undefined ? {} : { cause }),
  });
}
