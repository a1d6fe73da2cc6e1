/**
 * The `webui` provider: text-generation-webui behind the OpenAI chat face,
 * completing prompts rendered with the deployment's prompt format. By
 * default through its OpenAI-compatible `POST /v1/completions` (streamed
 * over SSE); with `mode: legacy`, through the older blocking
 * `POST /api/v1/generate` (a streamed request gets the whole answer as one delta).
 */
import type { Deployment } from "../../config/schema.js";
import { createRawCompletionProvider } from "../raw/raw-completion-provider.js";
import type { ChatProvider, ProviderContext } from "../types.js";
import { WebuiCompletionsBackend } from "./webui-backend.js";
import { WebuiLegacyBackend } from "./webui-legacy-backend.js";

/**
 * Creates the provider of one `webui` deployment (no I/O until the first call).
 * @param deployment `base_url` = the server's root, e.g. `http://127.0.0.1:5000`; `mode: legacy` for the legacy API
 * @throws RelayError 500 when `base_url` is missing
 */
export function createWebuiProvider(deployment: Deployment, context: ProviderContext): ChatProvider {
  const backend =
    deployment.mode === "legacy"
      ? new WebuiLegacyBackend(deployment, context)
      : new WebuiCompletionsBackend(deployment, context);
  return createRawCompletionProvider("webui", deployment, context, backend);
}
