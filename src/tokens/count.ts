/**
 * Local token counts with gpt-tokenizer (o200k_base, GPT-4o's encoding),
 * used by the `echo` provider, by admission's `tpm` estimate and whenever an
 * upstream reports no usage. For other model families the counts are
 * estimates and are flagged so.
 *
 * Every count is bounded: text is counted in linear time
 * (./piecewise-count.ts), and a counter counts at most a given number of
 * characters; texts past that are estimated from their size
 * (./size-estimate.ts) and the counter says so.
 */
import { contentText, type ChatMessage } from "../protocol/chat-request.js";
import { countPiecewise } from "./piecewise-count.js";
import { estimateTokensFromSize } from "./size-estimate.js";

/**
 * Characters (UTF-16 code units) counted per call by {@link countTextTokens}
 * and {@link countPromptTokens} (the recorder's worker, the library): about
 * 60 ms of ordinary text, half a second at worst (random letters without a
 * space); longer texts are estimated from their size, so a large upload
 * costs the worker next to nothing.
 */
export const COUNT_LIMIT_CHARS = 262_144;

/**
 * Characters counted per counter on the event loop (admission's `tpm`
 * estimate, `echo`'s usage, providers that count a prompt themselves): a few
 * tens of ms at worst; longer texts are estimated from their size.
 */
export const EVENT_LOOP_COUNT_LIMIT_CHARS = 32_768;

/** Per-message overhead of OpenAI's chat format, in tokens (OpenAI cookbook). */
const TOKENS_PER_MESSAGE = 3;
/** Tokens that prime the assistant reply. */
const REPLY_PRIMING_TOKENS = 3;

/**
 * Counts tokens with a budget of characters: each text that fits in what is
 * left of the budget is counted (and uses it up), any other is estimated from
 * its size, and {@link estimated} turns true. Use one counter per answer
 * figure (prompt, completion) so their costs add up to at most its budget.
 */
export class TokenCounter {
  private remainingChars: number;
  private anyEstimated = false;

  /** @param limitChars characters this counter counts at most (UTF-16 code units) */
  constructor(limitChars: number) {
    this.remainingChars = limitChars;
  }

  /** True once a text was estimated from its size rather than counted. */
  get estimated(): boolean {
    return this.anyEstimated;
  }

  /** Tokens of `text`: counted when it fits the budget, else estimated from its size. */
  text(text: string): number {
    if (text.length === 0) return 0;
    if (text.length > this.remainingChars) {
      this.anyEstimated = true;
      return estimateTokensFromSize(text);
    }
    this.remainingChars -= text.length;
    return countPiecewise(text);
  }

  /**
   * Prompt tokens of a message list, counted like OpenAI's
   * `usage.prompt_tokens` for chat models: each message's text and tool calls
   * plus a fixed per-message overhead.
   */
  prompt(messages: readonly ChatMessage[]): number {
    let total = REPLY_PRIMING_TOKENS;
    for (const message of messages) {
      total += TOKENS_PER_MESSAGE + this.text(message.role) + this.text(contentText(message.content));
      for (const call of message.tool_calls ?? []) {
        total += this.text(call.function.name) + this.text(call.function.arguments ?? "");
      }
    }
    return total;
  }
}

/**
 * Number of tokens in `text`: counted when it has at most `limitChars`
 * characters, else estimated from its size.
 */
export function countTextTokens(text: string, limitChars = COUNT_LIMIT_CHARS): number {
  return new TokenCounter(limitChars).text(text);
}

/**
 * Prompt tokens of a chat request as a backend that counts them itself would
 * see it: its messages ({@link TokenCounter.prompt}) and its `tools` as JSON
 * text, counting at most `limitChars` characters in all (the event loop's
 * budget by default).
 */
export function countRequestPromptTokens(
  body: { messages: readonly ChatMessage[]; tools?: unknown },
  limitChars = EVENT_LOOP_COUNT_LIMIT_CHARS,
): number {
  const counter = new TokenCounter(limitChars);
  const tools = Array.isArray(body.tools) && body.tools.length > 0 ? JSON.stringify(body.tools) : "";
  return counter.prompt(body.messages) + counter.text(tools);
}

/**
 * Number of prompt tokens of a message list ({@link TokenCounter.prompt}),
 * counting at most `limitChars` characters in all.
 */
export function countPromptTokens(messages: readonly ChatMessage[], limitChars = COUNT_LIMIT_CHARS): number {
  return new TokenCounter(limitChars).prompt(messages);
}
