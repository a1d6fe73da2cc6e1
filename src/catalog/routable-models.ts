/**
 * Every model name a client can use, with its provider and what the
 * catalog knows of it: the configured names and aliases, and for each
 * active preset (`groq/*`) the catalog's models as `groq/<model>`. Feeds
 * `GET /v1/models` and `llm-relay models`; {@link routedModel} describes
 * any name routing serves (`GET /v1/models/{id}`).
 */
import { findPreset, presetOfPattern } from "../config/presets.js";
import type { Deployment } from "../config/schema.js";
import { catalogModels, lookupModel } from "./lookup.js";
import type { CatalogModel } from "./types.js";

/** What this module needs of the router (`Router` satisfies it). */
export interface ModelSource {
  /** The configured names, aliases and patterns, each with its provider kind. */
  listModels(): { id: string; provider: string }[];
  /** Where a name goes; throws when nowhere. */
  resolve(model: string): { deploymentName: string; deployment: Deployment; upstreamModel: string };
}

/** One routable model; limits, prices and capabilities are null when unknown. */
export interface RoutableModel {
  /** The name to send as `model`. */
  id: string;
  /** The preset name for hosted models (`groq`), else the provider kind (`ollama`, `openai-compatible`). */
  provider: string;
  /** Context window, in tokens. */
  contextWindow: number | null;
  /** Largest completion, in tokens. */
  maxOutputTokens: number | null;
  /** USD per million prompt tokens. */
  inputUsdPerMTok: number | null;
  /** USD per million completion tokens. */
  outputUsdPerMTok: number | null;
  supportsTools: boolean | null;
  supportsVision: boolean | null;
}

/**
 * The routable models of `source`, in its order, each name once. A preset
 * pattern is replaced by its catalog models; a pattern without catalog
 * models (a user's `local/*`) is listed as configured.
 */
export function routableModels(source: ModelSource): RoutableModel[] {
  const out = new Map<string, RoutableModel>();
  const add = (model: RoutableModel) => {
    if (!out.has(model.id)) out.set(model.id, model);
  };
  for (const entry of source.listModels()) {
    const preset = entry.id.endsWith("/*") ? presetOfPattern(entry.id) : null;
    const models = preset ? catalogModels(preset.name) : [];
    if (preset && models.length > 0) {
      for (const model of models) add(fromCatalog(`${preset.name}/${model.id}`, preset.name, model, null));
      continue;
    }
    add(describeName(source, entry));
  }
  return [...out.values()];
}

/**
 * The model `id` as routing would serve it, or null when nothing routes it:
 * its entry of {@link routableModels} when listed, else a description of
 * the deployment it resolves to (a pattern's or `default_model`'s), its
 * provider the preset or the deployment's kind.
 */
export function routedModel(source: ModelSource, id: string): RoutableModel | null {
  const listed = routableModels(source).find((model) => model.id === id);
  if (listed) return listed;
  let provider: string;
  try {
    provider = source.resolve(id).deployment.provider;
  } catch {
    return null;
  }
  return describeName(source, { id, provider });
}

/** A configured name or alias: the deployment's own limits and prices win over the catalog's. */
function describeName(source: ModelSource, entry: { id: string; provider: string }): RoutableModel {
  let route: ReturnType<ModelSource["resolve"]> | null;
  try {
    route = source.resolve(entry.id);
  } catch {
    route = null;
  }
  // As in cost.ts: a preset pattern's catalog, or the Anthropic catalog for any anthropic deployment.
  const preset = route
    ? (presetOfPattern(route.deploymentName) ??
      (route.deployment.provider === "anthropic" ? (findPreset("anthropic") ?? null) : null))
    : null;
  const catalog = route && preset ? lookupModel(preset.name, route.upstreamModel) : null;
  return fromCatalog(entry.id, preset?.name ?? entry.provider, catalog, route?.deployment ?? null);
}

function fromCatalog(
  id: string,
  provider: string,
  model: CatalogModel | null,
  deployment: Deployment | null,
): RoutableModel {
  return {
    id,
    provider,
    contextWindow: deployment?.context_window ?? model?.contextWindow ?? null,
    maxOutputTokens: deployment?.max_output_tokens ?? model?.maxOutputTokens ?? null,
    inputUsdPerMTok: deployment?.input_cost_per_mtok ?? model?.inputUsdPerMTok ?? null,
    outputUsdPerMTok: deployment?.output_cost_per_mtok ?? model?.outputUsdPerMTok ?? null,
    supportsTools: model?.supportsTools ?? null,
    supportsVision: model?.supportsVision ?? null,
  };
}
