/**
 * Anthropic `usage` → the proxy's token counts. Anthropic's
 * `input_tokens` leaves out the prompt tokens written to or read from the
 * prompt cache (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching);
 * OpenAI's `prompt_tokens` counts the whole prompt, so the cache counts are
 * added in, and kept as details: `prompt_tokens_details.cached_tokens`
 * (OpenAI's name for cache reads) and Anthropic's own two fields.
 */
import type { OutputUsage } from "../raw/chat-output.js";
import type { AnthropicUsage } from "./anthropic-types.js";

/** OpenAI-style usage of an Anthropic `usage` object (counts in tokens, reported by Anthropic, never estimated). */
export function toOutputUsage(usage: AnthropicUsage): OutputUsage {
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cached = usage.cache_creation_input_tokens != null || usage.cache_read_input_tokens != null;
  return {
    promptTokens: (usage.input_tokens ?? 0) + cacheWrite + cacheRead,
    completionTokens: usage.output_tokens ?? 0,
    estimated: false,
    ...(cached
      ? { extra: { prompt_tokens_details: { cached_tokens: cacheRead }, cache_creation_input_tokens: cacheWrite, cache_read_input_tokens: cacheRead } }
      : {}),
  };
}

/**
 * Folds a later `usage` (a stream's `message_delta`) into an earlier one
 * (`message_start`): Anthropic's counts are cumulative, so each field
 * present in `next` replaces the earlier value.
 */
export function mergeUsage(earlier: AnthropicUsage, next: AnthropicUsage | undefined): AnthropicUsage {
  if (!next) return earlier;
  const out: AnthropicUsage = { ...earlier };
  for (const key of ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"] as const) {
    if (next[key] != null) out[key] = next[key];
  }
  return out;
}
