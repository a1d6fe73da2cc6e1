/** Reads text-generation-webui's answers: chunks, finish reasons, and the legacy API's missing ones. */
import type { RelayError } from "../../protocol/errors.js";
import { parseAnswer, unexpectedAnswer } from "../http/backend-answer.js";
import type { RawFinishReason } from "../raw/raw-backend.js";
import { completionSchema, type WebuiCompletion } from "./webui-api.js";

/** webui's `finish_reason` (`"stop"` | `"length"`) in OpenAI terms, or null while the stream runs. */
export function finishReason(value: string | null | undefined): RawFinishReason | null {
  if (value === undefined || value === null) return null;
  return value === "length" ? "length" : "stop";
}

/**
 * The finish reason of a legacy answer, which reports none, by webui's own
 * rule (modules/api/completions.py): `length` when the answer reached
 * `max_new_tokens` or prompt + answer reached the window, else `stop`.
 * @param maxNewTokens the limit sent, or null when webui was left to choose (`auto_max_new_tokens`)
 * @param contextWindow the window sent as `truncation_length`, or null
 */
export function inferredFinishReason(
  promptTokens: number | null,
  completionTokens: number | null,
  maxNewTokens: number | null,
  contextWindow: number | null,
): RawFinishReason {
  if (completionTokens === null) return "stop";
  if (maxNewTokens !== null && completionTokens >= maxNewTokens) return "length";
  if (contextWindow !== null && promptTokens !== null && promptTokens + completionTokens >= contextWindow)
    return "length";
  return "stop";
}

/**
 * Parses a `/v1/completions` answer or the `data:` of one stream chunk.
 * @param payload the parsed JSON body, or the text of an SSE `data:` field
 * @throws RelayError 502 `upstream_invalid_response` when it is not a completion
 */
export function parseCompletion(payload: unknown, origin: string): WebuiCompletion {
  return parseAnswer(completionSchema, payload, "text-generation-webui", origin);
}

/** 502 `upstream_invalid_response` quoting the start of what webui sent. */
export function invalidResponse(origin: string, text: string): RelayError {
  return unexpectedAnswer("text-generation-webui", origin, text);
}
