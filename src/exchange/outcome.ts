/**
 * How an exchange ended, as the record keeps it: one mapping for the
 * server's route and the library's in-process transport. `ok` with the
 * upstream's raw output; `cancelled` when the exchange's signal was
 * aborted (client gone, server stopping, caller's abort or timeout);
 * `truncated` when a failure broke an answer whose output had begun;
 * `error` otherwise. Error bodies follow OpenAI's error object
 * (https://platform.openai.com/docs/guides/error-codes/api-errors).
 */
import { errors } from "../protocol/error-codes.js";
import {
  RelayError,
  serverShuttingDown,
  toRelayError,
  type ErrorClass,
  type OpenAIErrorBody,
} from "../protocol/errors.js";
import type { ExchangeStatus, RawOutput } from "../recording/types.js";

/**
 * Why the proxy aborts an exchange when the server stops (`InFlight`'s
 * abort reason): answered with 503 `server_shutting_down` so the client
 * may retry elsewhere.
 */
export const SHUTDOWN_REASON = "server shutting down";

/** An error body as recorded (`responses.response_json`): OpenAI's, plus the upstream's invalid answer whole when there was one. */
export type RecordedErrorBody = OpenAIErrorBody & { upstream_body?: string };

/** How an exchange ended. */
export interface ExchangeOutcome {
  status: ExchangeStatus;
  /** HTTP status the client saw (499 for a caller that left before any status was sent; 200 once a stream's headers went out). */
  httpStatus: number;
  /** The upstream's answer, raw (what was received of it, for a broken or cancelled stream); null when there was none. */
  output: RawOutput | null;
  /** The error body sent (as the response or in-band), or null. */
  errorJson: RecordedErrorBody | null;
  /** The error's message (a cancellation's reason), or null. */
  error: string | null;
  /** The failure's class (null for `ok` and `cancelled`). */
  errorClass: ErrorClass | null;
  /** A refusal's prompt size counted by the backend's tokenizer (`RelayError.promptTokens`): the record's `input_tokens`. */
  promptTokens?: number | null;
}

/** A failed exchange: its outcome, and the error to answer with (as the HTTP response, or in-band in a stream). */
export interface FailedExchange {
  outcome: ExchangeOutcome;
  answer: RelayError;
}

/** What was under way when an exchange failed. */
export interface FailureContext {
  /** The output received (and passed on) before the failure, or null when none was: a failure after some output is `truncated`, not `error`. */
  received: RawOutput | null;
  /** Whether the client already has the answer's HTTP status (a server stream's 200 headers): the status recorded stays 200. */
  statusSent: boolean;
}

/** The outcome of an exchange that answered in full. */
export function okOutcome(output: RawOutput): ExchangeOutcome {
  return { status: "ok", httpStatus: 200, output, errorJson: null, error: null, errorClass: null };
}

/**
 * The outcome of an exchange that failed with `error` (see the module's
 * comment for the statuses), and the error to answer with: a stop is 503
 * `server_shutting_down`; another abort is 499 `cancelled` with the
 * abort reason's message; else the failure as a RelayError.
 */
export function failedOutcome(error: unknown, signal: AbortSignal, context: FailureContext): FailedExchange {
  if (signal.aborted) {
    const answer = cancellation(signal.reason, context.statusSent);
    return {
      answer,
      outcome: {
        status: "cancelled",
        httpStatus: context.statusSent ? 200 : answer.status,
        output: context.received,
        errorJson: recordedErrorBody(answer),
        error: reasonText(signal.reason),
        errorClass: null,
      },
    };
  }
  const answer = toRelayError(error);
  const errorJson = recordedErrorBody(answer);
  if (context.received !== null) {
    return {
      answer,
      outcome: {
        status: "truncated",
        httpStatus: 200,
        output: context.received,
        errorJson,
        error: answer.message,
        errorClass: answer.errorClass,
      },
    };
  }
  return {
    answer,
    outcome: {
      status: "error",
      httpStatus: answer.status,
      output: null,
      errorJson,
      error: answer.message,
      errorClass: answer.errorClass,
      promptTokens: answer.promptTokens,
    },
  };
}

/**
 * The error a cancelled exchange answers with: 503 `server_shutting_down`
 * for a stop before the answer's status was sent, else 499 `cancelled` with the
 * reason's message (in-band in a stream that had begun).
 */
function cancellation(reason: unknown, statusSent: boolean): RelayError {
  if (!statusSent && reason instanceof Error && reason.message === SHUTDOWN_REASON) return serverShuttingDown();
  return errors.cancelled(reason instanceof Error ? reason.message : "cancelled");
}

/** A cancellation's reason as the record's `error` (the abort reason's message). */
function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : "cancelled";
}

/** The error body the record keeps: OpenAI's body, plus `upstream_body` when the upstream's answer was invalid. */
export function recordedErrorBody(error: RelayError): RecordedErrorBody {
  const body = error.toBody();
  return error.upstreamBody === null ? body : { ...body, upstream_body: error.upstreamBody };
}
