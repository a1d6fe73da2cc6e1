/**
 * What a native upstream's answer must look like in each inbound protocol,
 * checked cheaply on the request path (the recorder reads the answer
 * whole later, src/protocol/native-output.ts):
 *
 * - Anthropic Messages (https://docs.anthropic.com/en/api/messages, streaming:
 *   https://docs.anthropic.com/en/docs/build-with-claude/streaming): a body
 *   with `type: "message"`; a stream that starts with `message_start`, ends
 *   with `message_stop`, and reports a failure as an `error` event
 *   (`{"type":"error","error":{"type","message"}}`).
 * - OpenAI Responses (https://platform.openai.com/docs/api-reference/responses,
 *   streaming: https://platform.openai.com/docs/api-reference/responses-streaming):
 *   a body with `object: "response"`; a stream that starts with
 *   `response.created`, ends with `response.completed` or
 *   `response.incomplete`, and reports a failure as `response.failed` (its
 *   `response.error`) or an `error` event (`code`, `message`).
 */
import type { NativeProtocol } from "../../protocol/inbound.js";
import type { RelayError } from "../../protocol/errors.js";
import { anthropicStreamError } from "../../protocol/anthropic/error-mapping.js";
import { upstreamHttpError } from "../../protocol/upstream-errors.js";

/** The checks of one protocol. */
export interface NativeShape {
  /** Whether a parsed non-streamed body is the protocol's answer. */
  isAnswer(body: unknown): boolean;
  /** The `type` the first event of a stream must have. */
  firstEvent: string;
  /** Event types that end a complete stream. */
  endEvents: readonly string[];
  /** Event types that report a failure in-band. */
  errorEvents: readonly string[];
  /** The RelayError of an in-band failure event (parsed). */
  streamError(event: Record<string, unknown>): RelayError;
}

function record(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

const MESSAGES: NativeShape = {
  isAnswer: (body) => record(body)?.type === "message",
  firstEvent: "message_start",
  endEvents: ["message_stop"],
  errorEvents: ["error"],
  streamError(event) {
    const error = record(event.error);
    return anthropicStreamError({ type: text(error?.type) || "api_error", message: text(error?.message) });
  },
};

const RESPONSES: NativeShape = {
  isAnswer: (body) => record(body)?.object === "response",
  firstEvent: "response.created",
  endEvents: ["response.completed", "response.incomplete"],
  errorEvents: ["response.failed", "error"],
  streamError(event) {
    // response.failed: {response: {error: {code, message}}}; error: {code, message, param}.
    const error = event.type === "response.failed" ? (record(record(event.response)?.error) ?? {}) : event;
    const message = text(error.message) || `The upstream's response failed (${text(error.code) || "no code"})`;
    const code = text(error.code);
    return upstreamHttpError(502, JSON.stringify({ error: { message, type: "server_error", code: code || null } }));
  },
};

/** The checks of `protocol`. */
export function nativeShape(protocol: NativeProtocol): NativeShape {
  return protocol === "messages" ? MESSAGES : RESPONSES;
}
