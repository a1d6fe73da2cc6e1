/**
 * The `anthropic` provider module: Anthropic's Messages API (https://docs.anthropic.com/en/api/messages), translated to and from OpenAI's shapes;
 * Messages clients are served natively (their bytes to `/v1/messages`, the answer back as sent).
 */
import { defineProvider } from "../provider-module.js";
import { createAnthropicProvider } from "./anthropic-provider.js";

/** The `anthropic` provider, as `src/providers/modules.ts` lists it. */
export const anthropicModule = defineProvider({
  kind: "anthropic",
  factory: createAnthropicProvider,
  local: false,
  protocols: ["chat"],
  nativeProtocols: ["messages"],
  settings: ["max_output_tokens", "extra_body"],
});
