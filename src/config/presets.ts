/**
 * Hosted OpenAI-compatible providers that turn on by themselves when
 * their API key is in the environment: `openai/*`, `groq/*`, `deepseek/*`.
 */
import { deploymentDefaults, type Deployment } from "./schema.js";

/** One preset: a `prefix/*` pattern served by an OpenAI-compatible API. */
interface Preset {
  pattern: string;
  base_url: string;
  api_key_env: string;
}

/** Base URLs from each provider's API documentation. */
const PRESETS: readonly Preset[] = [
  { pattern: "openai/*", base_url: "https://api.openai.com/v1", api_key_env: "OPENAI_API_KEY" },
  { pattern: "groq/*", base_url: "https://api.groq.com/openai/v1", api_key_env: "GROQ_API_KEY" },
  { pattern: "deepseek/*", base_url: "https://api.deepseek.com/v1", api_key_env: "DEEPSEEK_API_KEY" },
];

/**
 * The preset deployments whose API key is set in `env`, keyed by pattern.
 * @param env the process environment
 */
export function presetDeployments(env: NodeJS.ProcessEnv): Record<string, Deployment> {
  const out: Record<string, Deployment> = {};
  for (const preset of PRESETS) {
    if (!env[preset.api_key_env]) continue;
    out[preset.pattern] = { ...deploymentDefaults("openai-compatible"), base_url: preset.base_url, api_key_env: preset.api_key_env };
  }
  return out;
}
