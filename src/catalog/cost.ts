/**
 * The cost of one exchange in USD, from its prices per million tokens and
 * the exchange's token usage (as reported by the upstream, or estimated by
 * the recorder; `usage.estimated` says which). The prices are the
 * deployment's own (`input_cost_per_mtok`, `output_cost_per_mtok`,
 * `cached_input_cost_per_mtok` in the config), each one the catalog's
 * figure when the deployment leaves it unset; a local provider's default is
 * 0. Prompt tokens the upstream reports as read from its prompt cache, or
 * (Anthropic) written to it, cost the cached-input and cache-write prices
 * where known (see {@link cachedPromptTokens}).
 */
import { findPreset, presetOfPattern } from "../config/presets.js";
import { isLocalProviderKind } from "../providers/local-kinds.js";
import type { Deployment } from "../config/schema.js";
import { lookupModel } from "./lookup.js";
import type { CatalogModel } from "./types.js";

/**
 * The prices a deployment's config sets, in USD per million tokens; a field is absent when the config leaves it
 * to the catalog (or, for a local provider, to 0).
 */
export interface DeploymentPrices {
  /** `input_cost_per_mtok`: prompt tokens. */
  inputUsdPerMTok?: number;
  /** `output_cost_per_mtok`: completion tokens. */
  outputUsdPerMTok?: number;
  /** `cached_input_cost_per_mtok`: prompt tokens read from the upstream's prompt cache. */
  cachedInputUsdPerMTok?: number;
}

/** The prices a deployment's config sets (`input_cost_per_mtok`, …), or null when it sets none. */
export function deploymentPrices(
  deployment: Pick<Deployment, "input_cost_per_mtok" | "output_cost_per_mtok" | "cached_input_cost_per_mtok">,
): DeploymentPrices | null {
  const prices: DeploymentPrices = {};
  if (deployment.input_cost_per_mtok !== undefined) prices.inputUsdPerMTok = deployment.input_cost_per_mtok;
  if (deployment.output_cost_per_mtok !== undefined) prices.outputUsdPerMTok = deployment.output_cost_per_mtok;
  if (deployment.cached_input_cost_per_mtok !== undefined)
    prices.cachedInputUsdPerMTok = deployment.cached_input_cost_per_mtok;
  return Object.keys(prices).length > 0 ? prices : null;
}

/** The fields of a recorded exchange the price depends on (a subset of `ExchangeRecord`). */
export interface CostInput {
  /** Provider kind (`openai-compatible`, `anthropic`, `ollama`, …), or null when none was reached. */
  provider: string | null;
  /** Deployment name: the config key (`groq/*`, `my-model`), possibly with `#n` for the n-th of several. */
  deployment: string | null;
  /** The model name sent upstream. */
  upstreamModel: string | null;
  /** The deployment's own prices from the config ({@link deploymentPrices}); absent or null: the catalog's. */
  prices?: DeploymentPrices | null;
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

/** The prices an exchange is billed at, in USD per million tokens; null where nothing gives one. */
export interface ModelPrice {
  /** Prompt tokens. */
  inputUsdPerMTok: number | null;
  /** Completion tokens. */
  outputUsdPerMTok: number | null;
  /** Prompt tokens read from the prompt cache (null: they cost `inputUsdPerMTok`). */
  cachedInputUsdPerMTok: number | null;
  /** Prompt tokens written to the prompt cache, Anthropic (null: they cost `inputUsdPerMTok`). */
  cacheWriteUsdPerMTok: number | null;
}

/** What a local provider's tokens cost unless its deployment sets prices: nothing. */
const FREE: ModelPrice = {
  inputUsdPerMTok: 0,
  outputUsdPerMTok: 0,
  cachedInputUsdPerMTok: null,
  cacheWriteUsdPerMTok: null,
};

/**
 * The prices of an exchange or route: each of the deployment's own prices
 * (`prices`), else the catalog's ({@link priceEntry}), else 0 for a local
 * provider (a module marked `local`), else null.
 * @throws CatalogError (first call only) when a catalog data file is invalid
 */
export function modelPrice(
  exchange: Pick<CostInput, "provider" | "deployment" | "upstreamModel" | "prices">,
): ModelPrice {
  const own = exchange.prices ?? {};
  const base: ModelPrice | CatalogModel | null =
    exchange.provider !== null && isLocalProviderKind(exchange.provider) ? FREE : priceEntry(exchange);
  return {
    inputUsdPerMTok: own.inputUsdPerMTok ?? base?.inputUsdPerMTok ?? null,
    outputUsdPerMTok: own.outputUsdPerMTok ?? base?.outputUsdPerMTok ?? null,
    cachedInputUsdPerMTok: own.cachedInputUsdPerMTok ?? base?.cachedInputUsdPerMTok ?? null,
    cacheWriteUsdPerMTok: base?.cacheWriteUsdPerMTok ?? null,
  };
}

/** What a price is for: chat-like exchanges (prompt and completion) or embeddings (input only). */
export type PricedUse = "llm" | "embedding";

/**
 * Whether an exchange or route has a price: an input price, and for `llm`
 * use an output price too ({@link modelPrice}). A local provider is always
 * priced (at 0 unless its deployment sets prices).
 * @throws CatalogError (first call only) when a catalog data file is invalid
 */
export function isPriced(
  exchange: Pick<CostInput, "provider" | "deployment" | "upstreamModel" | "prices">,
  use: PricedUse,
): boolean {
  const price = modelPrice(exchange);
  return price.inputUsdPerMTok !== null && (use === "embedding" || price.outputUsdPerMTok !== null);
}

/**
 * The exchange's cost in USD: tokens × {@link modelPrice}; null when nothing
 * was reached, no usage is known, the input price is unknown, or completion
 * tokens have no price. Of the prompt, the cache reads cost the cached-input
 * price and the cache writes the cache-write price (each the plain input
 * price when none is known), the rest the input price; cached counts above
 * the prompt are capped at it. Rounded to 1e-10 USD to drop floating-point
 * noise. A local provider whose deployment sets no price costs 0, usage or not.
 * @throws CatalogError (first call only) when a catalog data file is invalid
 */
export function exchangeCostUsd(exchange: CostInput): number | null {
  if (!exchange.provider) return null;
  // Without usage, a local provider at its default price still costs nothing (as it always did).
  if (!exchange.usage) return isLocalProviderKind(exchange.provider) && !exchange.prices ? 0 : null;
  const price = modelPrice(exchange);
  const { input, output, details } = exchange.usage;
  if (price.inputUsdPerMTok === null) return null;
  if (price.outputUsdPerMTok === null && output > 0) return null;
  const inputPrice = price.inputUsdPerMTok;
  const cached = cachedPromptTokens(details);
  const read = Math.min(cached.read, input);
  const written = Math.min(cached.written, input - read);
  const plain = input - read - written;
  const usd =
    (plain * inputPrice +
      read * (price.cachedInputUsdPerMTok ?? inputPrice) +
      written * (price.cacheWriteUsdPerMTok ?? inputPrice) +
      output * (price.outputUsdPerMTok ?? 0)) /
    1_000_000;
  return Math.round(usd * 1e10) / 1e10;
}
