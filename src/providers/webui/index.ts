/**
 * The `webui` provider module: text-generation-webui (https://github.com/oobabooga/text-generation-webui/wiki/12-%E2%80%90-OpenAI-API), chat or `legacy` raw completion.
 */
import { defineProvider } from "../provider-module.js";
import { createWebuiProvider } from "./webui-provider.js";

/** The `webui` provider, as `src/providers/modules.ts` lists it. */
export const webuiModule = defineProvider({
  kind: "webui",
  factory: createWebuiProvider,
  local: true,
  protocols: ["chat"],
  nativeProtocols: ["chat"],
  settings: ["mode", "prompt_format", "tool_convention", "extra_body", "max_output_tokens", "context_window_ttl_ms"],
});
