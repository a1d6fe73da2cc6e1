/**
 * The `openai-compatible` provider module: any hosted or local API speaking OpenAI's chat completions (https://platform.openai.com/docs/api-reference/chat), passed through.
 */
import { defineProvider } from "../provider-module.js";
import { createOpenAICompatibleProvider } from "./openai-compatible-provider.js";

/** The `openai-compatible` provider, as `src/providers/modules.ts` lists it. */
export const openAiCompatibleModule = defineProvider({
  kind: "openai-compatible",
  factory: createOpenAICompatibleProvider,
  local: false,
  protocols: ["chat", "embeddings"],
  nativeProtocols: ["chat"],
});
