/**
 * The `koboldcpp` provider module: KoboldCpp's KoboldAI API (https://lite.koboldai.net/koboldcpp_api) with a prompt format.
 */
import { defineProvider } from "../provider-module.js";
import { createKoboldCppProvider } from "./koboldcpp-provider.js";

/** The `koboldcpp` provider, as `src/providers/modules.ts` lists it. */
export const koboldCppModule = defineProvider({
  kind: "koboldcpp",
  factory: createKoboldCppProvider,
  local: true,
  protocols: ["chat"],
  nativeProtocols: ["chat"],
  settings: ["prompt_format", "tool_convention", "extra_body", "max_output_tokens", "context_window_ttl_ms"],
});
