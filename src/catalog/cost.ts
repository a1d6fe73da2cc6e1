/**
 * The cost of one exchange in USD, from the catalog's prices per million
 * tokens and the exchange's token usage (as reported by the upstream, or
 * estimated by the recorder; `usage.estimated` says which).
 */
import { findPreset, presetOfPattern } from "../config/presets.js";
import { lookupModel } from "./lookup.js";
import type { CatalogModel } from "./types.js";

/** Provider kinds that run on the user's own hardware: their tokens cost nothing. */
export const LOCAL_PROVIDER_KINDS: ReadonlySet<string> = new Set(["echo", "ollama", "llamacpp", "koboldcpp", "webui", "lmstudio", "vllm", "local"]);

/** The fields of a recorded exchange the price depends on (a subset of `ExchangeRecord`). */
export interface CostInput {
  /** Provider kind (`openai-compatible`, `anthropic`, `ollama`, …), or null when none was reached. */
  provider: string | null;
  /** Deployment name: the config key (`groq/*`, `my-model`), possibly with `#n` for the n-th of several. */
  deployment: string | null;
  /** The model name sent upstream. */
  upstreamModel: string | null;
  /** Prompt and completion tokens. */
  usage: { input: number; output: number } | null;
}

/**
 * The catalog entry that prices an exchange: the preset's model for a
 * preset pattern deployment (`groq/*` + `llama-3.1-8b-instant`), the
 * Anthropic catalog for any `anthropic` deployment; null otherwise.
 */
export function priceEntry(exchange: Pick<CostInput, "provider" | "deployment" | "upstreamModel">): CatalogModel | null {
  if (!exchange.upstreamModel) return null;
  const deployment = exchange.deployment?.replace(/#\d+$/, "") ?? "";
  const preset = presetOfPattern(deployment) ?? (exchange.provider === "anthropic" ? findPreset("anthropic") : undefined) ?? null;
  return preset ? lookupModel(preset.name, exchange.upstreamModel) : null;
}

/**
 * The exchange's cost in USD: 0 for local providers, tokens × catalog
 * price for a hosted model the catalog knows, null when nothing was
 * reached, no usage is known, or the hosted model has no price.
 * Rounded to 1e-10 USD to drop floating-point noise.
 */
export function exchangeCostUsd(exchange: CostInput): number | null {
  if (!exchange.provider) return null;
  if (LOCAL_PROVIDER_KINDS.has(exchange.provider)) return 0;
  if (!exchange.usage) return null;
  const price = priceEntry(exchange);
  if (!price) return null;
  const usd = (exchange.usage.input * price.inputUsdPerMTok + exchange.usage.output * price.outputUsdPerMTok) / 1_000_000;
  return Math.round(usd * 1e10) / 1e10;
}
