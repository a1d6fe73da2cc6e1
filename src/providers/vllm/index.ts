/**
 * The `vllm` provider module: vLLM's OpenAI-compatible server (https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html), with its context window checked before the call.
 */
import { defineProvider } from "../provider-module.js";
import { createVllmProvider } from "./vllm-provider.js";

/** The `vllm` provider, as `src/providers/modules.ts` lists it. */
export const vllmModule = defineProvider({
  kind: "vllm",
  factory: createVllmProvider,
  local: true,
  protocols: ["chat", "embeddings"],
  nativeProtocols: ["chat"],
  settings: ["context_window_ttl_ms"],
});
