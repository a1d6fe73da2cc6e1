/**
 * Local token counts with gpt-tokenizer (o200k_base, GPT-4o's encoding),
 * used by the `echo` provider and whenever an upstream reports no usage.
 * For other model families the counts are estimates and are flagged so.
 */
import { createRequire } from "node:module";
import { contentText, type ChatMessage } from "../protocol/chat-request.js";

/**
 * gpt-tokenizer's o200k tables cost about 70 MB of memory, so they are
 * loaded on first use only: a proxy whose upstreams report usage never
 * loads them (and the recorder's worker thread loads them only to estimate).
 */
type CountTokens = (text: string, options: { disallowedSpecial: Set<string> }) => number;
let countTokens: CountTokens | null = null;
function tokenizer(): CountTokens {
  countTokens ??= (createRequire(import.meta.url)("gpt-tokenizer") as { countTokens: CountTokens }).countTokens;
  return countTokens;
}

/** Special-token text (`<|endoftext|>`, a ChatML prompt's `<|im_start|>`) is counted as plain text; gpt-tokenizer would otherwise throw on it. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** Per-message overhead of OpenAI's chat format, in tokens (OpenAI cookbook). */
const TOKENS_PER_MESSAGE = 3;
/** Tokens that prime the assistant reply. */
const REPLY_PRIMING_TOKENS = 3;

/** Number of tokens in `text`. */
export function countTextTokens(text: string): number {
  return text.length === 0 ? 0 : tokenizer()(text, PLAIN_TEXT);
}

/**
 * Number of prompt tokens of a message list, counted like OpenAI's
 * `usage.prompt_tokens` for chat models: each message's text and tool
 * calls plus a fixed per-message overhead.
 */
export function countPromptTokens(messages: readonly ChatMessage[]): number {
  let total = REPLY_PRIMING_TOKENS;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + countTextTokens(message.role) + countTextTokens(contentText(message.content));
    for (const call of message.tool_calls ?? []) {
      total += countTextTokens(call.function.name) + countTextTokens(call.function.arguments ?? "");
    }
  }
  return total;
}
