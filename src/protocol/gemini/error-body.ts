/**
 * The Gemini API's error body, Google's JSON error shape
 * (https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes,
 * https://cloud.google.com/apis/design/errors#http_mapping):
 * `{"error": {"code": <HTTP status>, "message": "...", "status": "<canonical code>"}}`.
 */
import type { RelayError } from "../errors.js";

/** Google's canonical error code for an HTTP status (https://cloud.google.com/apis/design/errors#handling_errors). */
export function googleStatusOf(httpStatus: number): string {
  switch (httpStatus) {
    case 400:
    case 413:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "ABORTED";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 499:
      return "CANCELLED";
    case 501:
      return "UNIMPLEMENTED";
    case 503:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    default:
      return httpStatus >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

/** Google's error body for `error`, sent with `error.status`. */
export function geminiErrorBody(error: RelayError): { error: { code: number; message: string; status: string } } {
  return { error: { code: error.status, message: error.message, status: googleStatusOf(error.status) } };
}
