/**
 * Finds a model in the catalog by preset and upstream model name,
 * tolerating the spellings providers accept for the same model: dated
 * snapshots (`claude-sonnet-4-20250514`, `gpt-4o-2024-08-06`), `-latest`
 * and the aliases listed in the data files.
 */
import type { CatalogEntry, CatalogFile } from "./catalog-schema.js";
import { loadCatalogFiles } from "./load-catalog.js";
import type { CatalogModel } from "./types.js";

/** Name → model, per provider; built once from the data files. */
let index: Map<string, Map<string, CatalogModel>> | null = null;

/**
 * `name` without a trailing snapshot date (`-20250514`, `-2024-08-06`) or `-latest`.
 * Other version suffixes (`mistral-large-2411`) are kept: they name different models.
 */
export function stripSnapshotSuffix(name: string): string {
  return name.replace(/-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$/, "");
}

/**
 * The catalog entry of `model` at preset `provider`, or null when the
 * catalog does not know it.
 * @param provider the preset name (`anthropic`, `openai`, `groq`, …)
 * @param model the upstream model name, as sent to the provider
 * @throws CatalogError (first call only) when a data file is invalid
 */
export function lookupModel(provider: string, model: string): CatalogModel | null {
  const byName = buildIndex().get(provider);
  if (!byName) return null;
  const name = model.trim().toLowerCase();
  return byName.get(name) ?? byName.get(stripSnapshotSuffix(name)) ?? null;
}

/** Every model of one preset (empty when the catalog has no file for it), in file order. */
export function catalogModels(provider: string): CatalogModel[] {
  const file = loadCatalogFiles().get(provider);
  return file ? file.models.map((entry) => toCatalogModel(provider, entry)) : [];
}

/** The preset names the catalog has a data file for, sorted. */
export function catalogProviders(): string[] {
  return [...loadCatalogFiles().keys()];
}

function buildIndex(): Map<string, Map<string, CatalogModel>> {
  if (index) return index;
  const built = new Map<string, Map<string, CatalogModel>>();
  for (const [provider, file] of loadCatalogFiles()) built.set(provider, indexFile(provider, file));
  index = built;
  return built;
}

/** Exact names win over stripped ones: a file may list a dated snapshot separately from its alias. */
function indexFile(provider: string, file: CatalogFile): Map<string, CatalogModel> {
  const byName = new Map<string, CatalogModel>();
  const models = file.models.map((entry) => ({ entry, model: toCatalogModel(provider, entry) }));
  for (const { entry, model } of models) {
    for (const name of [entry.id, ...entry.aliases]) byName.set(name.toLowerCase(), model);
  }
  for (const { entry, model } of models) {
    for (const name of [entry.id, ...entry.aliases]) {
      const stripped = stripSnapshotSuffix(name.toLowerCase());
      if (!byName.has(stripped)) byName.set(stripped, model);
    }
  }
  return byName;
}

function toCatalogModel(provider: string, entry: CatalogEntry): CatalogModel {
  return {
    id: entry.id,
    provider,
    contextWindow: entry.context_window,
    maxOutputTokens: entry.max_output_tokens,
    inputUsdPerMTok: entry.input_usd_per_mtok,
    outputUsdPerMTok: entry.output_usd_per_mtok,
    cachedInputUsdPerMTok: entry.cached_input_usd_per_mtok ?? null,
    cacheWriteUsdPerMTok: entry.cache_write_usd_per_mtok ?? null,
    supportsTools: entry.supports_tools,
    supportsVision: entry.supports_vision,
  };
}
