/**
 * Hosted providers that turn on by themselves: each preset is a
 * `<name>/*` pattern (`groq/llama-3.1-8b-instant` → model
 * `llama-3.1-8b-instant` at Groq), active when its API key variable is set
 * in the environment or when the config file lists it under `presets:`.
 */
import { deploymentDefaults, type Deployment } from "./schema.js";

/** One preset: a `<name>/*` pattern served by a hosted API. */
export interface Preset {
  /** The pattern prefix and catalog name (`openai`, `groq`, …). */
  name: string;
  /** The provider module that speaks its API. */
  provider: "openai-compatible" | "anthropic";
  /** The API's base URL, as its documentation gives it for OpenAI SDKs (Anthropic: the host; the provider appends `/v1/messages`). */
  base_url: string;
  /** The environment variable the provider's own SDKs read the key from. */
  api_key_env: string;
}

/**
 * Base URLs from each provider's API documentation (checked 2026-11-21):
 * platform.openai.com; console.groq.com/docs/openai; api-docs.deepseek.com
 * ("https://api.deepseek.com/v1 … for compatibility with OpenAI");
 * docs.mistral.ai (https://api.mistral.ai/v1); openrouter.ai/docs/quickstart;
 * docs.together.ai/docs/inference/openai-compatibility (api.together.ai);
 * docs.fireworks.ai (…/inference/v1); ai.google.dev/gemini-api/docs/openai;
 * docs.x.ai/api/integrations; docs.anthropic.com (api.anthropic.com).
 */
export const PRESETS: readonly Preset[] = [
  {
    name: "openai",
    provider: "openai-compatible",
    base_url: "https://api.openai.com/v1",
    api_key_env: "OPENAI_API_KEY",
  },
  {
    name: "groq",
    provider: "openai-compatible",
    base_url: "https://api.groq.com/openai/v1",
    api_key_env: "GROQ_API_KEY",
  },
  {
    name: "deepseek",
    provider: "openai-compatible",
    base_url: "https://api.deepseek.com/v1",
    api_key_env: "DEEPSEEK_API_KEY",
  },
  {
    name: "mistral",
    provider: "openai-compatible",
    base_url: "https://api.mistral.ai/v1",
    api_key_env: "MISTRAL_API_KEY",
  },
  {
    name: "openrouter",
    provider: "openai-compatible",
    base_url: "https://openrouter.ai/api/v1",
    api_key_env: "OPENROUTER_API_KEY",
  },
  {
    name: "together",
    provider: "openai-compatible",
    base_url: "https://api.together.ai/v1",
    api_key_env: "TOGETHER_API_KEY",
  },
  {
    name: "fireworks",
    provider: "openai-compatible",
    base_url: "https://api.fireworks.ai/inference/v1",
    api_key_env: "FIREWORKS_API_KEY",
  },
  {
    name: "gemini",
    provider: "openai-compatible",
    base_url: "https://generativelanguage.googleapis.com/v1beta/openai",
    api_key_env: "GEMINI_API_KEY",
  },
  { name: "xai", provider: "openai-compatible", base_url: "https://api.x.ai/v1", api_key_env: "XAI_API_KEY" },
  { name: "anthropic", provider: "anthropic", base_url: "https://api.anthropic.com", api_key_env: "ANTHROPIC_API_KEY" },
];

/** The preset names, in {@link PRESETS} order. */
export const PRESET_NAMES: readonly string[] = PRESETS.map((preset) => preset.name);

/** What the config file's `presets.<name>` may override. */
export interface PresetOverride {
  /** Read the key from this variable instead of the standard one. */
  api_key_env?: string | undefined;
  /** Send requests here instead of the provider's public API. */
  base_url?: string | undefined;
}

/** The preset called `name`, or undefined. */
export function findPreset(name: string): Preset | undefined {
  return PRESETS.find((preset) => preset.name === name);
}

/**
 * The preset a deployment belongs to: `groq` for the pattern `groq/*`,
 * or null for any other deployment name.
 */
export function presetOfPattern(deploymentName: string): Preset | null {
  if (!deploymentName.endsWith("/*")) return null;
  return findPreset(deploymentName.slice(0, -2)) ?? null;
}

/**
 * The active preset deployments, keyed by pattern (`groq/*`). A preset is
 * active when its key variable is set (non-empty) in `env`, or when
 * `configured` lists it (then with its overrides, key set or not: a local
 * stand-in at `base_url` may need none).
 * @param env the process environment
 * @param configured the config file's `presets:` map (names already checked)
 */
export function presetDeployments(
  env: NodeJS.ProcessEnv,
  configured: Record<string, PresetOverride> = {},
): Record<string, Deployment> {
  const out: Record<string, Deployment> = {};
  for (const preset of PRESETS) {
    const override = configured[preset.name];
    if (!override && !env[preset.api_key_env]) continue;
    out[`${preset.name}/*`] = {
      ...deploymentDefaults(preset.provider),
      base_url: override?.base_url ?? preset.base_url,
      api_key_env: override?.api_key_env ?? preset.api_key_env,
    };
  }
  return out;
}
