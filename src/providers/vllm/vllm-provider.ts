/**
 * The `vllm` provider: vLLM's OpenAI-compatible server
 * (https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html),
 * `base_url` up to `/v1`. Requests and answers pass through the
 * `openai-compatible` provider unchanged (vLLM reports usage itself);
 * before that, the prompt is checked against the model's window
 * (`context_window`, else `max_model_len` from `GET /v1/models`), counted
 * with vLLM's `POST /tokenize` (else estimated, flagged in the message).
 * Over the window: 400 `context_length_exceeded` stating both numbers,
 * nothing sent to `/v1/chat/completions`.
 */
import { uncodedError } from "../../protocol/error-codes.js";
import type { Deployment } from "../../config/schema.js";
import { backendClient, splitApiBase } from "../http/backend-client.js";
import { createOpenAICompatibleProvider } from "../openai-compatible/openai-compatible-provider.js";
import { withPreflight } from "../openai-compatible/with-preflight.js";
import { assertFitsContextWindow, requestedMaxTokens } from "../raw/context-window.js";
import { forgetOnFailure } from "../raw/discovery-cache.js";
import type { ChatProvider, ProviderCall, ProviderContext } from "../types.js";
import { VLLM_DISCOVERY_TIMEOUT_MS, VllmContext } from "./vllm-context.js";

/**
 * Creates the provider of one vLLM deployment (no I/O here).
 * @throws RelayError 500 when the deployment has no `base_url`
 */
export function createVllmProvider(deployment: Deployment, context: ProviderContext): ChatProvider {
  if (!deployment.base_url) throw uncodedError("A vllm deployment needs base_url (e.g. http://127.0.0.1:8000/v1)");
  const inner = createOpenAICompatibleProvider(deployment, context);
  const { root, apiPrefix } = splitApiBase(deployment.base_url);
  const { client, sideCallMs } = backendClient(deployment, context, root, VLLM_DISCOVERY_TIMEOUT_MS);
  const windows = new VllmContext(
    client,
    `${apiPrefix}/models`,
    sideCallMs,
    deployment.context_window_ttl_ms,
    context.now,
  );

  /** @throws RelayError 400 `context_length_exceeded` when the prompt plus `max_tokens` is over the window */
  async function checkContextWindow(call: ProviderCall): Promise<void> {
    const contextWindow = deployment.context_window ?? (await windows.window(call.body.model, call.signal));
    if (contextWindow === null) return;
    const counted = await windows.count(call.body, call.signal);
    const maxTokens = requestedMaxTokens(call.body);
    if (context.debug)
      context.logger.debug(
        {
          provider: "vllm",
          target: client.origin,
          contextWindow,
          promptTokens: counted.tokens,
          estimated: counted.estimated,
          maxTokens,
        },
        "context window check",
      );
    assertFitsContextWindow({ promptTokens: counted.tokens, estimated: counted.estimated, maxTokens, contextWindow });
  }

  // A connection failure or the server's own context error drops the known windows at once (src/providers/raw/discovery-cache.ts).
  return forgetOnFailure(
    withPreflight("vllm", inner, checkContextWindow, () => client.close()),
    () => windows.invalidate(),
  );
}
