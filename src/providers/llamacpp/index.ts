/**
 * The `llamacpp` provider module: llama.cpp's llama-server native `/completion` (https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md) with a prompt format.
 */
import { defineProvider } from "../provider-module.js";
import { createLlamaCppProvider } from "./llamacpp-provider.js";

/** The `llamacpp` provider, as `src/providers/modules.ts` lists it. */
export const llamaCppModule = defineProvider({
  kind: "llamacpp",
  factory: createLlamaCppProvider,
  local: true,
  protocols: ["chat"],
  nativeProtocols: ["chat"],
  settings: ["prompt_format", "extra_body", "context_window_ttl_ms"],
});
