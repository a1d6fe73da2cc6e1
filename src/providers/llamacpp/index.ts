/**
 * The `llamacpp` provider module: llama.cpp's llama-server native `/completion` (https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md) with a prompt format.
 * Its chat goes through the raw `/completion` prompt mode, so it speaks only chat natively by default: Messages and
 * Responses clients are translated unless a deployment lists them in `protocols`, which sends them to llama-server's own
 * `/v1/messages` and `/v1/responses` (rendered with the model's template, not the deployment's `prompt_format`).
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
  settings: ["prompt_format", "tool_convention", "extra_body", "context_window_ttl_ms"],
});
