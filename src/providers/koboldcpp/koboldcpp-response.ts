/** Reads KoboldCpp's answers: stream events, and its finish reason in OpenAI terms. */
import type { RelayError } from "../../protocol/errors.js";
import { parseAnswer, unexpectedAnswer } from "../http/backend-answer.js";
import type { RawFinishReason } from "../raw/raw-backend.js";
import { streamEventSchema, type KoboldStreamEvent } from "./koboldcpp-api.js";

/**
 * KoboldCpp's `finish_reason` in OpenAI terms, or null while generation
 * runs (JSON null, or the string `"null"` KoboldCpp streams).
 */
export function finishReason(value: string | null | undefined): RawFinishReason | null {
  if (value === undefined || value === null || value === "null") return null;
  return value === "length" ? "length" : "stop";
}

/**
 * Parses the `data:` of one stream event.
 * @throws RelayError 502 `upstream_invalid_response` when it is not `{"token", "finish_reason"}` JSON
 */
export function parseStreamEvent(data: string, origin: string): KoboldStreamEvent {
  return parseAnswer(streamEventSchema, data, "KoboldCpp", origin);
}

/** 502 `upstream_invalid_response` quoting the start of what KoboldCpp sent. */
export function invalidResponse(origin: string, text: string): RelayError {
  return unexpectedAnswer("KoboldCpp", origin, text);
}

/**
 * Whether `text` ends at one of the stop sequences (a server that keeps the
 * stop string in the answer, `trim_stop: false`).
 * @param stops the request's stop sequences (the client's, then the prompt format's)
 */
export function endsAtStop(text: string, stops: readonly string[]): boolean {
  return stops.some((stop) => stop !== "" && text.endsWith(stop));
}
