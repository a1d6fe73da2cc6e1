/**
 * The cost of one exchange in USD, from the catalog's prices per million
 * tokens and the exchange's token usage (as reported by the upstream, or
 * estimated by the recorder; `usage.estimated` says which). Prompt tokens
 * the upstream reports as read from its prompt cache, or (Anthropic) written
 * to it, cost the catalog's cached-input and cache-write prices where it has
 * them (see {@link cachedPromptTokens}).
 */
import { findPreset, presetOfPattern } from "../config/presets.js";
import { isLocalProviderKind } from "../providers/local-kinds.js";
import { lookupModel } from "./lookup.js";
import type { CatalogModel } from "./types.js";

/** The fields of a recorded exchange the price depends on (a subset of `ExchangeRecord`). */
export interface CostInput {
  /** Provider kind (`openai-compatible`, `anthropic`, `ollama`, …), or null when none was reached. */
  provider: string | null;
  /** Deployment name: the config key (`groq/*`, `my-model`), possibly with `#n` for the n-th of several. */
  deployment: string | null;
  /** The model name sent upstream. */
  upstreamModel: string | null;
  /**
   * Prompt and completion tokens; `input` counts the whole prompt, cached
   * parts included. `details` is llm's `token_details` (`TokenUsage.details`),
   * where the cached counts are read.
   */
  usage: { input: number; output: number; details?: Record<string, unknown> | null } | null;
}

/** Prompt tokens read from and written to the provider's prompt cache (both parts of `usage.input`), in tokens. */
export interface CachedPromptTokens {
  read: number;
  written: number;
}

/**
 * The cached prompt tokens of llm's `token_details`:
 * `read` = Anthropic's `cache_read_input_tokens`, else OpenAI's
 * `prompt_tokens_details.cached_tokens` (llama-server, xAI, Gemini, DeepSeek
 * and OpenRouter send it too), else DeepSeek's `prompt_cache_hit_tokens`;
 * `written` = Anthropic's `cache_creation_input_tokens`. Missing or
 * non-numeric values count 0.
 */
export function cachedPromptTokens(details: Record<string, unknown> | null | undefined): CachedPromptTokens {
  if (!details) return { read: 0, written: 0 };
  const promptDetails = details.prompt_tokens_details;
  const openAiCached =
    promptDetails && typeof promptDetails === "object"
      ? (promptDetails as Record<string, unknown>).cached_tokens
      : undefined;
  return {
    read:
      tokens(details.cache_read_input_tokens) ?? tokens(openAiCached) ?? tokens(details.prompt_cache_hit_tokens) ?? 0,
    written: tokens(details.cache_creation_input_tokens) ?? 0,
  };
}

/** A token count (a non-negative finite number), else undefined. */
function tokens(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * The catalog entry that prices an exchange: the preset's model for a
 * preset pattern deployment (`groq/*` + `llama-3.1-8b-instant`), the
 * Anthropic catalog for any `anthropic` deployment; null otherwise.
 */
export function priceEntry(
  exchange: Pick<CostInput, "provider" | "deployment" | "upstreamModel">,
): CatalogModel | null {
  if (!exchange.upstreamModel) return null;
  const deployment = exchange.deployment?.replace(/#\d+$/, "") ?? "";
  const preset =
    presetOfPattern(deployment) ?? (exchange.provider === "anthropic" ? findPreset("anthropic") : undefined) ?? null;
  return preset ? lookupModel(preset.name, exchange.upstreamModel) : null;
}

/**
 * The exchange's cost in USD: 0 for local providers, tokens × catalog
 * price for a hosted model the catalog knows, null when nothing was
 * reached, no usage is known, or the hosted model has no price. Of the
 * prompt, the cache reads cost `cachedInputUsdPerMTok` and the cache writes
 * `cacheWriteUsdPerMTok` (each the plain input price when the catalog has
 * none), the rest `inputUsdPerMTok`; cached counts above the prompt are
 * capped at it. Rounded to 1e-10 USD to drop floating-point noise.
 */
export function exchangeCostUsd(exchange: CostInput): number | null {
  if (!exchange.provider) return null;
  if (isLocalProviderKind(exchange.provider)) return 0;
  if (!exchange.usage) return null;
  const price = priceEntry(exchange);
  if (!price) return null;
  const { input, output, details } = exchange.usage;
  const cached = cachedPromptTokens(details);
  const read = Math.min(cached.read, input);
  const written = Math.min(cached.written, input - read);
  const plain = input - read - written;
  const usd =
    (plain * price.inputUsdPerMTok +
      read * (price.cachedInputUsdPerMTok ?? price.inputUsdPerMTok) +
      written * (price.cacheWriteUsdPerMTok ?? price.inputUsdPerMTok) +
      output * price.outputUsdPerMTok) /
    1_000_000;
  return Math.round(usd * 1e10) / 1e10;
}
