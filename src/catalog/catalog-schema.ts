/**
 * The shape of one catalog data file (`src/catalog/data/<provider>.json`),
 * validated with zod when the catalog is loaded.
 */
import { z } from "zod";

const tokens = z.number().int().positive();
const usdPerMTok = z.number().nonnegative();

/** One model as written in a data file (snake_case, like the config file). */
export const catalogEntrySchema = z.strictObject({
  /** The upstream model name, as the provider's API takes it. */
  id: z.string().min(1),
  /** Other names the provider accepts for the same model (dated snapshots, `-latest`). */
  aliases: z.array(z.string().min(1)).default([]),
  /** Context window (prompt + completion), in tokens. */
  context_window: tokens,
  /** Largest completion the API allows, in tokens. */
  max_output_tokens: tokens,
  /** Price of one million prompt tokens, in USD. */
  input_usd_per_mtok: usdPerMTok,
  /** Price of one million completion tokens, in USD. */
  output_usd_per_mtok: usdPerMTok,
  /**
   * Price of one million prompt tokens read from the provider's prompt cache
   * (OpenAI's "cached input", `usage.prompt_tokens_details.cached_tokens`;
   * Anthropic's "cache hits", `usage.cache_read_input_tokens`), in USD.
   * Absent: cached tokens cost the plain input price.
   */
  cached_input_usd_per_mtok: usdPerMTok.optional(),
  /**
   * Price of one million prompt tokens written to the prompt cache
   * (Anthropic's 5-minute "cache writes", `usage.cache_creation_input_tokens`), in USD.
   * Absent: they cost the plain input price.
   */
  cache_write_usd_per_mtok: usdPerMTok.optional(),
  /** Whether the model takes `tools` (function calling). */
  supports_tools: z.boolean(),
  /** Whether the model takes image inputs. */
  supports_vision: z.boolean(),
});

/** One data file: the models of one preset, with where the numbers come from. */
export const catalogFileSchema = z.strictObject({
  /** The preset name (`openai`, `anthropic`, …); equals the file name. */
  provider: z.string().regex(/^[a-z0-9-]+$/),
  /** The pages the prices and limits were read from. */
  source: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** Caveats of the numbers (tiered prices, undocumented limits). */
  notes: z.string().min(1).optional(),
  /** The date (YYYY-MM-DD) the numbers were last checked against `source`. */
  checked: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  models: z.array(catalogEntrySchema).min(1),
});

/** A parsed data file. */
export type CatalogFile = z.infer<typeof catalogFileSchema>;
/** A parsed model entry of a data file. */
export type CatalogEntry = z.infer<typeof catalogEntrySchema>;
