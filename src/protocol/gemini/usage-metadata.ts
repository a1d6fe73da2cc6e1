/**
 * Chat Completions `usage` → the Gemini API's `usageMetadata`
 * (https://ai.google.dev/api/generate-content#UsageMetadata), in tokens.
 */
import type { Usage } from "../chat-completion.js";

/** Gemini's usage of one answer, in tokens. */
export interface UsageMetadata {
  /** The prompt, cached tokens included. */
  promptTokenCount: number;
  /** The answer, thoughts excluded. */
  candidatesTokenCount: number;
  /** prompt + candidates + thoughts. */
  totalTokenCount: number;
  /** The part of the prompt read from a cache, when the upstream says. */
  cachedContentTokenCount?: number;
  /** The model's reasoning, when the upstream counts it apart. */
  thoughtsTokenCount?: number;
}

/**
 * The usage metadata of a chat usage: `promptTokenCount` = `prompt_tokens`, `thoughtsTokenCount` =
 * `completion_tokens_details.reasoning_tokens` (when above 0), `candidatesTokenCount` = `completion_tokens`
 * less those, `cachedContentTokenCount` = `prompt_tokens_details.cached_tokens` or
 * `cache_read_input_tokens` (when above 0), `totalTokenCount` = prompt + completion.
 * @param promptEstimate the prompt's size as the proxy estimates it, when the upstream gave no usage
 */
export function usageMetadata(usage: Usage | null | undefined, promptEstimate: number): UsageMetadata {
  if (!usage) return { promptTokenCount: promptEstimate, candidatesTokenCount: 0, totalTokenCount: promptEstimate };
  const prompt = count(usage.prompt_tokens) ?? 0;
  const completion = count(usage.completion_tokens) ?? 0;
  const completionDetails = usage.completion_tokens_details as { reasoning_tokens?: unknown } | null | undefined;
  const promptDetails = usage.prompt_tokens_details as { cached_tokens?: unknown } | null | undefined;
  const thoughts = Math.min(count(completionDetails?.reasoning_tokens) ?? 0, completion);
  const cached = count(promptDetails?.cached_tokens) ?? count(usage.cache_read_input_tokens) ?? 0;
  const out: UsageMetadata = {
    promptTokenCount: prompt,
    candidatesTokenCount: completion - thoughts,
    totalTokenCount: prompt + completion,
  };
  if (cached > 0) out.cachedContentTokenCount = cached;
  if (thoughts > 0) out.thoughtsTokenCount = thoughts;
  return out;
}

/** A token count, or null for anything that is not a finite non-negative number. */
function count(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}
