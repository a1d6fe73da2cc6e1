/**
 * What a provider declares about itself. Every provider folder exports one
 * {@link ProviderModule} from its `index.ts`, built with
 * {@link defineProvider}; `src/providers/modules.ts` lists them, the
 * registry's factories are derived from that list, and it checks the
 * plain lists of kinds (`kinds.ts`, `local-kinds.ts`) against it.
 */
import type { Deployment } from "../config/schema.js";
import type { InboundProtocol } from "../protocol/inbound.js";
import type { ProviderKind } from "./kinds.js";
import type { ProviderFactory } from "./types.js";

/** An OpenAI-shaped endpoint a provider can serve: `chat` = `POST /v1/chat/completions`, `embeddings` = `POST /v1/embeddings`. */
export type ProviderProtocol = "chat" | "embeddings";

/**
 * A deployment key (of `config/schema.ts`'s deployment schema) that only
 * some providers read. The schema accepts these keys on every deployment
 * (as it always did); a module lists the ones it reads in `settings`.
 */
export type ProviderSettingKey = keyof Pick<
  Deployment,
  | "prompt_format"
  | "tool_convention"
  | "mode"
  | "model_path"
  | "threads"
  | "extra_body"
  | "context_window_ttl_ms"
  | "max_output_tokens"
>;

/** One provider, as it declares itself (`K`: its kind; `L`: its `local` flag, as a literal type). */
export interface ProviderModule<K extends ProviderKind = ProviderKind, L extends boolean = boolean> {
  /** The `provider:` value of a deployment it serves (`ollama`, `openai-compatible`, …). */
  readonly kind: K;
  /** Builds the provider of one deployment; must not do I/O. @throws RelayError when the deployment is unusable (e.g. no `base_url`). */
  readonly factory: ProviderFactory;
  /** True when it runs on the user's own hardware: its tokens cost $0 (`exchangeCostUsd`), and budgets are charged nothing. */
  readonly local: L;
  /** The endpoints it can serve (`embeddings` only when its provider has `embed`, possibly only in one `mode`). */
  readonly protocols: readonly ProviderProtocol[];
  /**
   * The inbound protocols (`chat`, `messages`, `responses`) its upstream speaks natively by default: a request
   * in one of them goes through as the client's own bytes (`ChatProvider.native`), any other is translated to
   * chat. A deployment's `protocols` key replaces this list (src/exchange/native.ts `nativeEndpointFor`).
   */
  readonly nativeProtocols: readonly InboundProtocol[];
  /** The provider-specific deployment keys it reads, beyond the common ones (`base_url`, `api_key_env`, `model`, timeouts, …). */
  readonly settings?: readonly ProviderSettingKey[];
}

/**
 * Declares a provider module, keeping its `kind` and `local` as literal
 * types (so `modules.ts` can check its list against {@link ProviderKind}
 * and `local-kinds.ts`).
 * @example export const echoModule = defineProvider({ kind: "echo", factory: createEchoProvider, local: true, protocols: ["chat"], nativeProtocols: ["chat"] });
 */
export function defineProvider<const K extends ProviderKind, const L extends boolean>(
  module: ProviderModule<K, L>,
): ProviderModule<K, L> {
  return Object.freeze({ ...module });
}
