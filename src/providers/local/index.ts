/**
 * The `local` provider module: a GGUF file run in-process by the optional `node-llama-cpp`.
 */
import { defineProvider } from "../provider-module.js";
import { createLocalProvider } from "./local-provider.js";

/** The `local` provider, as `src/providers/modules.ts` lists it. */
export const localModule = defineProvider({
  kind: "local",
  factory: createLocalProvider,
  local: true,
  protocols: ["chat"],
  nativeProtocols: ["chat"],
  settings: ["model_path", "threads", "prompt_format", "tool_convention"],
});
