/**
 * `POST /v1/messages/count_tokens` (https://docs.anthropic.com/en/api/messages-count-tokens):
 * the prompt's size in tokens, `{"input_tokens": n}`, counted with the
 * project's tokenizer (src/tokens/count.ts: gpt-tokenizer, so an estimate of
 * what a given model's own tokenizer would count) over the request's chat
 * translation: its messages, the system prompt included, and its tools.
 */
import { EVENT_LOOP_COUNT_LIMIT_CHARS, countRequestPromptTokens } from "../../tokens/count.js";
import { parseCountTokensRequest } from "./messages-request.js";
import { countTokensToChat } from "./to-chat.js";

/** The answer of `count_tokens`. */
export interface CountTokensAnswer {
  input_tokens: number;
}

/** The validated body's model and its token count. */
export interface CountedTokens {
  model: string;
  answer: CountTokensAnswer;
}

/**
 * Counts the prompt tokens of a `count_tokens` body (on the event loop: past
 * `EVENT_LOOP_COUNT_LIMIT_CHARS` characters the count is estimated from the text's size).
 * @throws RelayError 400 `invalid_request_error` naming the field of an invalid body
 */
export function countMessageTokens(body: unknown): CountedTokens {
  const request = parseCountTokensRequest(body);
  const chat = countTokensToChat(request);
  return {
    model: request.model,
    answer: { input_tokens: countRequestPromptTokens(chat, EVENT_LOOP_COUNT_LIMIT_CHARS) },
  };
}
