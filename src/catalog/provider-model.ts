/**
 * Whether a model name denotes a hosted provider's model: either a preset
 * pattern name (`groq/llama-3.1-8b-instant`, `anthropic/claude-sonnet-4-20250514`:
 * a known preset, a slash, a model) or a bare model name the catalog knows
 * (`gpt-4o`, `claude-3-5-haiku-latest`).
 */
import { PRESET_NAMES } from "../config/presets.js";
import { catalogProviders, lookupModel } from "./lookup.js";
import type { CatalogModel } from "./types.js";

/** A hosted model name taken apart. */
export interface ProviderModel {
  /** The preset serving it (`groq`). */
  preset: string;
  /** The upstream model name (`llama-3.1-8b-instant`). */
  model: string;
  /** Its catalog entry, or null when the catalog does not list it (the pattern still routes it). */
  catalog: CatalogModel | null;
}

/**
 * Takes `name` apart into preset and upstream model, or returns null when
 * it is neither `<preset>/<model>` nor a bare model of the catalog. A bare
 * name listed by several presets resolves to the first in preset order
 * (the model's own vendor comes before resellers).
 */
export function parseProviderModel(name: string): ProviderModel | null {
  const slash = name.indexOf("/");
  if (slash > 0 && slash < name.length - 1) {
    const preset = name.slice(0, slash);
    if (PRESET_NAMES.includes(preset)) {
      const model = name.slice(slash + 1);
      return { preset, model, catalog: lookupModel(preset, model) };
    }
  }
  const known = new Set(catalogProviders());
  for (const preset of PRESET_NAMES) {
    if (!known.has(preset)) continue;
    const catalog = lookupModel(preset, name);
    if (catalog) return { preset, model: name, catalog };
  }
  return null;
}

/**
 * True when `name` is a hosted provider's model, by pattern
 * (`groq/llama-3.1-8b-instant`) or by catalog (`gpt-4o`); false for
 * anything else (`foo`, `local/llama`).
 */
export function isProviderModel(name: string): boolean {
  return parseProviderModel(name) !== null;
}
