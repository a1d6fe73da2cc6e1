/**
 * The provider kinds this build serves, as plain strings: what the config
 * schema needs, without loading any provider's implementation (the config
 * is read before any provider exists, and providers import the config's
 * types). `src/providers/modules.ts` holds the modules themselves and
 * checks, at compile time, that this list names exactly their kinds.
 */

/** Provider kinds, in the order of `PROVIDER_MODULES` (`src/providers/modules.ts`). */
export const PROVIDER_KINDS = [
  "echo",
  "openai-compatible",
  "anthropic",
  "ollama",
  "llamacpp",
  "koboldcpp",
  "webui",
  "lmstudio",
  "vllm",
  "local",
] as const;

/** A provider kind (`provider:` of a deployment). */
export type ProviderKind = (typeof PROVIDER_KINDS)[number];
