/**
 * The `ollama` provider: Ollama's native API (https://github.com/ollama/ollama/blob/main/docs/api.md).
 * `base_url` is the server root (default `http://127.0.0.1:11434`, Ollama's
 * own default). Without `prompt_format` it chats through `POST /api/chat`
 * (tools, images, Ollama's chat template); with one, it renders the prompt
 * itself and completes it through `POST /api/generate` with `raw: true`.
 * Either way `options.num_ctx` is always sent (see ollama-model-info.ts),
 * the prompt is checked against it first, and usage comes from
 * `prompt_eval_count` / `eval_count`. Embeddings go to `POST /api/embed`
 * (ollama-embed.ts).
 */
import type { Deployment } from "../../config/schema.js";
import { backendClient } from "../http/backend-client.js";
import { createRawCompletionProvider } from "../raw/raw-completion-provider.js";
import type { ChatProvider, ProviderContext } from "../types.js";
import { createOllamaChatProvider } from "./ollama-chat.js";
import { createOllamaEmbed } from "./ollama-embed.js";
import { createOllamaGenerateBackend } from "./ollama-generate-backend.js";
import { DISCOVERY_TIMEOUT_MS, OllamaModelInfo } from "./ollama-model-info.js";
import { forgetOnFailure } from "../raw/discovery-cache.js";

/** Ollama's default address (`OLLAMA_HOST`), used when the deployment has no `base_url`. */
export const OLLAMA_DEFAULT_BASE_URL = "http://127.0.0.1:11434";

/**
 * Creates the provider of one Ollama deployment (no I/O here; /api/show is asked on the first call).
 * An `api_key_env` is sent as `Authorization: Bearer …` (for an Ollama behind an authenticating proxy).
 */
export function createOllamaProvider(deployment: Deployment, context: ProviderContext): ChatProvider {
  const { client, timeouts, sideCallMs } = backendClient(
    deployment,
    context,
    deployment.base_url ?? OLLAMA_DEFAULT_BASE_URL,
    DISCOVERY_TIMEOUT_MS,
  );
  const info = new OllamaModelInfo(client, sideCallMs, deployment.context_window_ttl_ms, context.now);
  const transport = { client, info, context };
  const provider =
    deployment.prompt_format !== undefined
      ? createRawCompletionProvider("ollama", deployment, context, createOllamaGenerateBackend(deployment, transport))
      : createOllamaChatProvider(deployment, timeouts, transport);
  // Embeddings go to /api/embed in either mode. A connection failure or the server's own context error drops
  // what /api/show said at once (src/providers/raw/discovery-cache.ts).
  return Object.assign(
    forgetOnFailure(provider, () => info.invalidate()),
    { embed: createOllamaEmbed(deployment, timeouts, transport) },
  );
}
