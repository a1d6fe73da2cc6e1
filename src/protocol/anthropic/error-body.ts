/**
 * Anthropic's error shape, for every error a `/v1/messages` client gets:
 * `{"type":"error","error":{"type":…,"message":…}}` with the status's
 * error type (https://docs.anthropic.com/en/api/errors). The status stays
 * the one llm-relay decided; only the body changes shape.
 */
import type { RelayError } from "../errors.js";

/** Anthropic's error body. */
export interface AnthropicErrorBody {
  type: "error";
  error: { type: string; message: string };
  /** The request id, as Anthropic's answers carry it. */
  request_id?: string;
}

/** Anthropic's `error.type` for an HTTP status (https://docs.anthropic.com/en/api/errors#http-errors). */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 400:
    case 405:
    case 408:
    case 409:
    case 414:
    case 415:
    case 417:
    case 422:
    case 431:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 504:
      return "timeout_error";
    case 529:
    case 503:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

/** `error` in Anthropic's shape (its message as it is; our code kept nowhere, as Anthropic's body has no such field). */
export function anthropicErrorBody(error: RelayError): AnthropicErrorBody {
  return { type: "error", error: { type: anthropicErrorType(error.status), message: error.message } };
}
