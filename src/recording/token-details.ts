/**
 * llm's `token_details` (`responses.token_details`, `turns.token_details`)
 * from an upstream's `usage` object, as llm's own plugins store it:
 *
 * - OpenAI-style usage (`llm/default_plugins/openai_models.py` `set_usage`,
 *   llm 0.32): the usage object without `prompt_tokens`,
 *   `completion_tokens` and `total_tokens`, passed through
 *   `simplify_usage_dict` (`llm/utils.py`), which drops zero values and
 *   empty objects, e.g. `{"prompt_tokens_details": {"cached_tokens": 45}}`.
 *   Whatever else the upstream put in `usage` stays (DeepSeek's
 *   `prompt_cache_hit_tokens`, OpenRouter's `cost`); fields beside `usage`
 *   (llama-server's `timings`) are not part of it.
 * - Anthropic (the `llm-anthropic` plugin's `set_usage`): Anthropic's own
 *   usage fields without `input_tokens` and `output_tokens`
 *   (`cache_creation_input_tokens`, `cache_read_input_tokens`,
 *   `cache_creation`, `server_tool_use`, `service_tier`), as they came
 *   (zeros kept), and only when the prompt cache was used or a server tool
 *   ran; otherwise none. llm-anthropic's condition is its `cache` option or
 *   `server_tool_use`; a proxy does not see the option, so a cache read or
 *   write above 0 stands for it. The `anthropic` provider carries these
 *   fields in the OpenAI usage it builds (providers/anthropic/usage-mapping.ts),
 *   beside its mirror `prompt_tokens_details.cached_tokens`, which is left
 *   out here.
 */
import type { Usage } from "../protocol/chat-completion.js";

/** The usage fields llm stores as columns (`input_tokens`, `output_tokens`) or drops. */
const COUNTED = new Set(["prompt_tokens", "completion_tokens", "total_tokens"]);

/**
 * The `token_details` of an exchange's usage, or null when nothing
 * remains (no usage, or only counts and zeros).
 * @param usage the upstream's (or translating provider's) OpenAI `usage` object
 * @param provider the provider kind that answered (`anthropic` selects llm-anthropic's form)
 */
export function tokenDetails(usage: Usage | null | undefined, provider: string | null): Record<string, unknown> | null {
  if (!usage || typeof usage !== "object") return null;
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(usage)) {
    if (COUNTED.has(key) || value === undefined) continue;
    if (provider === "anthropic" && key === "prompt_tokens_details") continue;
    rest[key] = value;
  }
  if (provider === "anthropic") return anthropicCacheUsed(rest) ? rest : null;
  const simplified = simplifyUsageDict(rest);
  return Object.keys(simplified).length > 0 ? simplified : null;
}

/** Whether Anthropic's usage shows prompt-cache reads or writes, or server tool use. */
function anthropicCacheUsed(usage: Record<string, unknown>): boolean {
  const positive = (value: unknown) => typeof value === "number" && value > 0;
  return (
    positive(usage.cache_read_input_tokens) ||
    positive(usage.cache_creation_input_tokens) ||
    (usage.server_tool_use != null && usage.server_tool_use !== false)
  );
}

/**
 * llm's `simplify_usage_dict`: recursively removes the keys whose value is
 * 0 (Python's `v != 0` also drops `false`), null or an empty object, and
 * objects left empty by that. Arrays and strings are kept as they are
 * (Python does not walk into lists).
 */
export function simplifyUsageDict(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === 0 || item === false || item === null || item === undefined) continue;
    const cleaned = isPlainObject(item) ? simplifyUsageDict(item) : item;
    if (isPlainObject(cleaned) && Object.keys(cleaned).length === 0) continue;
    out[key] = cleaned;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
