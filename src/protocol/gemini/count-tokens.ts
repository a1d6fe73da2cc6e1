/**
 * `POST /v1beta/models/{model}:countTokens` (https://ai.google.dev/api/tokens):
 * the prompt's size, `{"totalTokens": n}`, counted with the project's
 * tokenizer (src/tokens/count.ts: gpt-tokenizer, an estimate of what the
 * model's own tokenizer would count) over the chat translation of the
 * body's `contents`, or of its whole `generateContentRequest` (system
 * instruction and function declarations included).
 */
import { EVENT_LOOP_COUNT_LIMIT_CHARS, countRequestPromptTokens } from "../../tokens/count.js";
import { invalidRequest } from "../errors.js";
import { contentsToMessages } from "./contents-to-messages.js";
import { parseCountTokensRequest } from "./gemini-request.js";
import { functionTools } from "./to-chat.js";

/** The answer of `countTokens`. */
export interface CountTokensAnswer {
  /** The prompt's tokens. */
  totalTokens: number;
}

/**
 * Counts the prompt tokens of a `countTokens` body (on the event loop: past
 * `EVENT_LOOP_COUNT_LIMIT_CHARS` characters the count is estimated from the text's size).
 * @throws RelayError 400 naming the field of an invalid body, or when it has neither `contents` nor `generateContentRequest`
 */
export function countGeminiTokens(body: unknown): CountTokensAnswer {
  const request = parseCountTokensRequest(body);
  const whole = request.generateContentRequest;
  if (!whole && !request.contents)
    throw invalidRequest("Invalid value at 'contents': give 'contents' or 'generateContentRequest'.", "contents");
  const messages = whole
    ? contentsToMessages(whole.systemInstruction, whole.contents)
    : contentsToMessages(undefined, request.contents ?? []);
  const tools = functionTools(whole?.tools);
  return {
    totalTokens: countRequestPromptTokens({ messages, tools }, EVENT_LOOP_COUNT_LIMIT_CHARS),
  };
}
