/**
 * Reads llama-server's answers: why a completion stopped, its counts, and
 * what `/props` tells about the model.
 */
import { parseAnswer } from "../http/backend-answer.js";
import type { RawCounts, RawDiscovery, RawFinishReason } from "../raw/raw-backend.js";
import {
  completionAnswerSchema,
  completionEventSchema,
  type LlamaCppCompletionEvent,
  type LlamaCppProps,
} from "./llamacpp-api.js";

/**
 * The OpenAI `finish_reason` of a final (`stop: true`) event: `length` when
 * the token limit ended it (`stop_type: "limit"`, or `stopped_limit` in
 * older builds), else `stop` (EOS, a stop string).
 */
export function finishReason(event: LlamaCppCompletionEvent): RawFinishReason {
  return event.stop_type === "limit" || event.stopped_limit === true ? "length" : "stop";
}

/** Prompt (`tokens_evaluated`) and completion (`tokens_predicted`) tokens of a final event. */
export function counts(event: LlamaCppCompletionEvent): RawCounts {
  return { promptTokens: event.tokens_evaluated ?? null, completionTokens: event.tokens_predicted ?? null };
}

/**
 * The context window (`default_generation_settings.n_ctx`, or a top-level
 * `n_ctx`) and the model's chat template (with its BOS/EOS text when given).
 */
export function discoveryFromProps(props: LlamaCppProps): RawDiscovery {
  const contextWindow = props.default_generation_settings?.n_ctx ?? props.n_ctx ?? null;
  const template = props.chat_template
    ? {
        template: props.chat_template,
        source: "llamacpp /props",
        bosToken: props.bos_token ?? null,
        eosToken: props.eos_token ?? null,
      }
    : null;
  return { contextWindow, template };
}

/**
 * Parses one `/completion` answer or SSE event.
 * @param payload the parsed JSON body, or the raw text of an SSE `data:` field
 * @param origin the server's origin, for the error message
 * @throws RelayError 502 `upstream_invalid_response` when it is not JSON of the expected shape
 */
export function parseCompletionEvent(payload: unknown, origin: string): LlamaCppCompletionEvent {
  return parseAnswer(completionEventSchema, payload, "llama.cpp", origin);
}

/**
 * Parses a whole (non-streaming) `/completion` answer: as an event, with its `content` required.
 * @throws RelayError 502 `upstream_invalid_response` when it is not JSON of that shape
 */
export function parseCompletionAnswer(payload: unknown, origin: string): LlamaCppCompletionEvent {
  return parseAnswer(completionAnswerSchema, payload, "llama.cpp", origin);
}
