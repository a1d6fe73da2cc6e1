/**
 * The `llamacpp` provider: llama.cpp `llama-server`'s native
 * `/completion` API behind the OpenAI chat face. The messages are
 * rendered with the deployment's prompt format (`auto`: the model's own
 * template from `GET /props`), checked against the context window
 * (`n_ctx`, prompt counted with `POST /tokenize`), and completed; usage
 * comes from the server's `tokens_evaluated` / `tokens_predicted`.
 *
 * Chat is always translated to `/completion` (the deployment's prompt
 * format), so by default (`src/providers/llamacpp/index.ts`) Messages and
 * Responses clients are translated too. llama-server (2026-09 and later)
 * also serves `POST /v1/messages` and `POST /v1/responses` itself, with the
 * model's own chat template: a deployment that lists them in `protocols`
 * gets those clients natively, as their own bytes
 * (src/providers/native/native-endpoint.ts, the `--api-key` as Bearer).
 */
import type { Deployment } from "../../config/schema.js";
import { createRawCompletionProvider } from "../raw/raw-completion-provider.js";
import type { NativeProtocol } from "../../protocol/inbound.js";
import { deploymentTimeouts } from "../http/timeouts.js";
import { UpstreamClient } from "../http/upstream-client.js";
import { createNativeEndpoint } from "../native/native-endpoint.js";
import type { ChatProvider, NativeEndpoint, ProviderContext } from "../types.js";
import { LlamaCppBackend } from "./llamacpp-backend.js";

/**
 * Creates the provider of one `llamacpp` deployment (no I/O until the first call).
 * @param deployment `base_url` = the server's root, e.g. `http://127.0.0.1:8080`
 * @throws RelayError 500 when `base_url` is missing
 */
export function createLlamaCppProvider(deployment: Deployment, context: ProviderContext): ChatProvider {
  const provider = createRawCompletionProvider(
    "llamacpp",
    deployment,
    context,
    new LlamaCppBackend(deployment, context),
  );
  const timeouts = deploymentTimeouts(deployment);
  let client: UpstreamClient | null = null;
  const natives = new Map<NativeProtocol, NativeEndpoint>();
  return {
    ...provider,
    native(protocol: NativeProtocol): NativeEndpoint {
      const known = natives.get(protocol);
      if (known) return known;
      const key = deployment.api_key_env ? context.env[deployment.api_key_env] : undefined;
      client ??= new UpstreamClient(deployment.base_url, timeouts, key ? { authorization: `Bearer ${key}` } : {});
      const endpoint = createNativeEndpoint({ protocol, client, path: `/v1/${protocol}`, timeouts });
      natives.set(protocol, endpoint);
      return endpoint;
    },
    async close(): Promise<void> {
      await Promise.all([provider.close?.(), client?.close()]);
    },
  };
}
