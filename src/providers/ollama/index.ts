/**
 * The `ollama` provider module: Ollama's native API (https://github.com/ollama/ollama/blob/main/docs/api.md): `/api/chat`, or `/api/generate` with a prompt format, and `/api/embed`.
 */
import { defineProvider } from "../provider-module.js";
import { createOllamaProvider } from "./ollama-provider.js";

/** The `ollama` provider, as `src/providers/modules.ts` lists it. */
export const ollamaModule = defineProvider({
  kind: "ollama",
  factory: createOllamaProvider,
  local: true,
  protocols: ["chat", "embeddings"],
  nativeProtocols: ["chat"],
  settings: ["prompt_format", "tool_convention", "extra_body", "context_window_ttl_ms"],
});
