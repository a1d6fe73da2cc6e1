/**
 * The `lmstudio` provider module: LM Studio's OpenAI-compatible API (https://lmstudio.ai/docs/app/api/endpoints/openai), or `legacy` `/v1/completions` with a prompt format; embeddings in `chat` mode only.
 */
import { defineProvider } from "../provider-module.js";
import { createLmStudioProvider } from "./lmstudio-provider.js";

/** The `lmstudio` provider, as `src/providers/modules.ts` lists it. */
export const lmStudioModule = defineProvider({
  kind: "lmstudio",
  factory: createLmStudioProvider,
  local: true,
  protocols: ["chat", "embeddings"],
  nativeProtocols: ["chat"],
  settings: ["mode", "prompt_format", "tool_convention", "extra_body", "context_window_ttl_ms"],
});
