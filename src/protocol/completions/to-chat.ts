/**
 * A legacy completions request (https://platform.openai.com/docs/api-reference/completions/create) as the core's
 * Chat Completions request (https://platform.openai.com/docs/api-reference/chat/create): the prompt as one user
 * message, what a chat backend gets and what the record's llm rows are built from. A raw-completion backend gets
 * the prompt itself instead ({@link rawPromptOf}).
 */
import { chatCompletionRequestSchema, type ChatCompletionRequest } from "../chat-request.js";
import type { RawPrompt } from "../inbound.js";
import { LEGACY_DEFAULT_MAX_TOKENS, type CompletionsRequest } from "./completions-request.js";

/** The sampling fields that mean the same in both APIs, copied when the client set them. */
const SHARED_FIELDS = [
  "temperature",
  "top_p",
  "stop",
  "seed",
  "presence_penalty",
  "frequency_penalty",
  "user",
  "logit_bias",
] as const;

/**
 * The chat request of one prompt: `messages: [{role: "user", content: prompt}]`, `max_tokens` (the legacy default
 * 16 when the client set none), the shared sampling fields, `logprobs: N` as `logprobs: true, top_logprobs: N`,
 * `stream` and `stream_options`.
 */
export function completionsToChat(request: CompletionsRequest, prompt: string): ChatCompletionRequest {
  const chat: Record<string, unknown> = {
    model: request.model,
    messages: [{ role: "user", content: prompt }],
    max_tokens: request.max_tokens ?? LEGACY_DEFAULT_MAX_TOKENS,
  };
  for (const field of SHARED_FIELDS) {
    const value = request[field];
    if (value !== undefined && value !== null) chat[field] = value;
  }
  if (typeof request.logprobs === "number") {
    chat.logprobs = true;
    chat.top_logprobs = request.logprobs;
  }
  if (request.stream === true) {
    chat.stream = true;
    if (request.stream_options) chat.stream_options = request.stream_options;
  }
  return chatCompletionRequestSchema.parse(chat);
}

/** What a raw-completion backend completes for one prompt: the prompt as it is, and `suffix` when the client set one. */
export function rawPromptOf(request: CompletionsRequest, prompt: string): RawPrompt {
  return typeof request.suffix === "string" ? { prompt, suffix: request.suffix } : { prompt };
}
