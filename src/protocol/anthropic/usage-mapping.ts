/**
 * Anthropic `usage` → the proxy's token counts. Anthropic's
 * `input_tokens` leaves out the prompt tokens written to or read from the
 * prompt cache (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching);
 * OpenAI's `prompt_tokens` counts the whole prompt, so the cache counts are
 * added in. Every other field of Anthropic's usage is kept in the OpenAI
 * usage as it came (`cache_creation_input_tokens`, `cache_read_input_tokens`,
 * `cache_creation`, `server_tool_use`, `service_tier`: what the llm-anthropic
 * plugin stores as llm's `token_details`, see recording/token-details.ts),
 * with the cache reads also as `prompt_tokens_details.cached_tokens`
 * (OpenAI's name, which OpenAI clients read).
 */
import type { OutputUsage } from "../chat-output.js";
import type { AnthropicUsage } from "./anthropic-types.js";

/** OpenAI-style usage of an Anthropic `usage` object (counts in tokens, reported by Anthropic, never estimated). */
export function toOutputUsage(usage: AnthropicUsage): OutputUsage {
  const { input_tokens: input, output_tokens: output, ...rest } = usage;
  const cacheWrite = count(usage.cache_creation_input_tokens);
  const cacheRead = count(usage.cache_read_input_tokens);
  const cached = usage.cache_creation_input_tokens != null || usage.cache_read_input_tokens != null;
  const kept = Object.entries(rest).filter(([, value]) => value !== undefined && value !== null);
  return {
    promptTokens: count(input) + cacheWrite + cacheRead,
    completionTokens: count(output),
    estimated: false,
    ...(cached || kept.length > 0
      ? {
          extra: {
            ...(cached ? { prompt_tokens_details: { cached_tokens: cacheRead } } : {}),
            ...Object.fromEntries(kept),
          },
        }
      : {}),
  };
}

/** A token count, or 0 for anything else (absent, null, not a number). */
function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/**
 * Folds a later `usage` (a stream's `message_delta`) into an earlier one
 * (`message_start`): Anthropic's counts are cumulative, so each field
 * present in `next` replaces the earlier value.
 */
export function mergeUsage(earlier: AnthropicUsage, next: AnthropicUsage | undefined): AnthropicUsage {
  if (!next || typeof next !== "object") return earlier;
  const out: AnthropicUsage = { ...earlier };
  for (const [key, value] of Object.entries(next)) if (value != null) out[key] = value;
  return out;
}
