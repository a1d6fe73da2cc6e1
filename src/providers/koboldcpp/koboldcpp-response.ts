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
