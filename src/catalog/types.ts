/** Public types of the model catalog. */

/** One hosted model with its limits and prices, as the catalog knows it. */
export interface CatalogModel {
  /** The upstream model name (what the provider's API takes). */
  id: string;
  /** The preset it belongs to (`openai`, `anthropic`, `groq`, …). */
  provider: string;
  /** Context window (prompt + completion), in tokens. */
  contextWindow: number;
  /** Largest completion the API allows, in tokens. */
  maxOutputTokens: number;
  /** USD per million prompt tokens. */
  inputUsdPerMTok: number;
  /** USD per million completion tokens. */
  outputUsdPerMTok: number;
  /** USD per million prompt tokens read from the prompt cache, or null when the catalog has no such price (they cost `inputUsdPerMTok`). */
  cachedInputUsdPerMTok: number | null;
  /** USD per million prompt tokens written to the prompt cache (Anthropic), or null when the catalog has no such price (they cost `inputUsdPerMTok`). */
  cacheWriteUsdPerMTok: number | null;
  /** Whether the model takes `tools` (function calling). */
  supportsTools: boolean;
  /** Whether the model takes image inputs. */
  supportsVision: boolean;
}
