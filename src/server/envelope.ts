/**
 * The response envelope of the internal endpoints (`/internal/*`):
 *
 * ```json
 * {"success": true, "message": "13 prompt formats", "data": […], "metadata": {…}, "error": null}
 * {"success": false, "message": "Unknown prompt format 'x'", "data": null, "metadata": {}, "error": {"type": "invalid_request_error", "code": null, "message": "…", "details": null}}
 * ```
 *
 * `success` says which of `data` and `error` is set; `message` is one
 * human-readable line either way; `metadata` holds facts about the answer
 * (counts, defaults) that are not the data itself. The OpenAI-compatible
 * routes (`/v1/*`) keep OpenAI's own shapes and never use this.
 */
import { toRelayError } from "../protocol/errors.js";

/** The error part of a failed envelope (the fields of an OpenAI error body, without `param`). */
export interface EnvelopeError {
  /** OpenAI-style error type, e.g. `invalid_request_error`, `server_error`. */
  type: string;
  /** A machine-readable code, or null. */
  code: string | null;
  message: string;
  /** Structured facts about the failure (the offending `param`, validation issues, failed checks), or null. */
  details: Record<string, unknown> | null;
}

/** An envelope: `data` set when `success`, `error` set when not. */
export interface Envelope<T, M extends Record<string, unknown> = Record<string, unknown>> {
  success: boolean;
  message: string;
  data: T | null;
  metadata: M;
  error: EnvelopeError | null;
}

/**
 * A successful envelope.
 * @param init `data` (required), a one-line `message` and optional `metadata` (default `{}`)
 */
export function envelope<T, M extends Record<string, unknown> = Record<string, unknown>>(init: {
  data: T;
  message: string;
  metadata?: M;
}): Envelope<T, M> {
  return { success: true, message: init.message, data: init.data, metadata: init.metadata ?? ({} as M), error: null };
}

/**
 * A failed envelope and the HTTP status to send it with.
 * @param error anything thrown: a RelayError keeps its status, type and code; anything else is a 500 `server_error`
 * @param metadata optional facts about the failed request
 * @param details structured facts about the failure; default `{param}` when the error names one, else null
 */
export function envelopeError<M extends Record<string, unknown> = Record<string, unknown>>(
  error: unknown,
  metadata?: M,
  details?: Record<string, unknown> | null,
): { status: number; body: Envelope<null, M> } {
  const relayError = toRelayError(error);
  return {
    status: relayError.status,
    body: {
      success: false,
      message: relayError.message,
      data: null,
      metadata: metadata ?? ({} as M),
      error: {
        type: relayError.type,
        code: relayError.code,
        message: relayError.message,
        details: details ?? (relayError.param ? { param: relayError.param } : null),
      },
    },
  };
}
