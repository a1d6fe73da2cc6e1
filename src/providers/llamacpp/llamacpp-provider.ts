/**
 * The `llamacpp` provider: llama.cpp `llama-server`'s native
 * `/completion` API behind the OpenAI chat face. The messages are
 * rendered with the deployment's prompt format (`auto`: the model's own
 * template from `GET /props`), checked against the context window
 * (`n_ctx`, prompt counted with `POST /tokenize`), and completed; usage
 * comes from the server's `tokens_evaluated` / `tokens_predicted`.
 */
import type { Deployment } from "../../config/schema.js";
import { createRawCompletionProvider } from "../raw/raw-completion-provider.js";
import type { ChatProvider, ProviderContext } from "../types.js";
import { LlamaCppBackend } from "./llamacpp-backend.js";

/**
 * Creates the provider of one `llamacpp` deployment (no I/O until the first call).
 * @param deployment `base_url` = the server's root, e.g. `http://127.0.0.1:8080`
 * @throws RelayError 500 when `base_url` is missing
 */
export function createLlamaCppProvider(deployment: Deployment, context: ProviderContext): ChatProvider {
  return createRawCompletionProvider("llamacpp", deployment, context, new LlamaCppBackend(deployment, context));
}
