/**
 * The `koboldcpp` provider: KoboldCpp's KoboldAI-style generate API
 * behind the OpenAI chat face. The messages are rendered with the
 * deployment's prompt format, checked against the context window
 * (`/api/extra/true_max_context_length`, prompt counted with
 * `/api/extra/tokencount`), and completed with stop strings under
 * `stop_sequence` (KoboldCpp ignores `stop`).
 */
import type { Deployment } from "../../config/schema.js";
import { createRawCompletionProvider } from "../raw/raw-completion-provider.js";
import type { ChatProvider, ProviderContext } from "../types.js";
import { KoboldCppBackend } from "./koboldcpp-backend.js";

/**
 * Creates the provider of one `koboldcpp` deployment (no I/O until the first call).
 * @param deployment `base_url` = the server's root, e.g. `http://127.0.0.1:5001`
 * @throws RelayError 500 when `base_url` is missing
 */
export function createKoboldCppProvider(deployment: Deployment, context: ProviderContext): ChatProvider {
  return createRawCompletionProvider("koboldcpp", deployment, context, new KoboldCppBackend(deployment, context));
}
