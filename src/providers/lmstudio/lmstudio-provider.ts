/**
 * The `lmstudio` provider: LM Studio's OpenAI-compatible server
 * (https://lmstudio.ai/docs/developer/openai-compat), `base_url` up to `/v1`.
 * - `mode: chat` (default): `POST /v1/chat/completions`, passed through the
 *   `openai-compatible` provider unchanged (LM Studio applies the model's
 *   template); before that the prompt (a gpt-tokenizer estimate) is checked
 *   against the window: `context_window`, else `max_context_length` from
 *   `GET /api/v0/models/{model}`.
 * - `mode: legacy`: the proxy renders the prompt with the deployment's
 *   prompt format and completes it through `POST /v1/completions`
 *   (see lmstudio-completions-backend.ts).
 */
import { uncodedError } from "../../protocol/error-codes.js";
import type { Deployment } from "../../config/schema.js";
import { countRequestPromptTokens } from "../../tokens/count.js";
import { backendClient, splitApiBase } from "../http/backend-client.js";
import { createOpenAICompatibleProvider } from "../openai-compatible/openai-compatible-provider.js";
import { withPreflight } from "../openai-compatible/with-preflight.js";
import { assertFitsContextWindow, requestedMaxTokens } from "../raw/context-window.js";
import { createRawCompletionProvider } from "../raw/raw-completion-provider.js";
import type { ChatProvider, ProviderCall, ProviderContext } from "../types.js";
import { createLmStudioCompletionsBackend } from "./lmstudio-completions-backend.js";
import { LMSTUDIO_DISCOVERY_TIMEOUT_MS, lmStudioContextLength } from "./lmstudio-models.js";

/**
 * Creates the provider of one LM Studio deployment (no I/O here).
 * @throws RelayError 500 when the deployment has no `base_url`
 */
export function createLmStudioProvider(deployment: Deployment, context: ProviderContext): ChatProvider {
  if (!deployment.base_url) throw uncodedError("An lmstudio deployment needs base_url (e.g. http://127.0.0.1:1234/v1)");
  const { root, apiPrefix } = splitApiBase(deployment.base_url);
  const { client, sideCallMs: discoveryTimeoutMs } = backendClient(
    deployment,
    context,
    root,
    LMSTUDIO_DISCOVERY_TIMEOUT_MS,
  );
  if (deployment.mode === "legacy") {
    return createRawCompletionProvider(
      "lmstudio",
      deployment,
      context,
      createLmStudioCompletionsBackend(deployment, context, client, apiPrefix, discoveryTimeoutMs),
    );
  }

  const inner = createOpenAICompatibleProvider(deployment, context);
  const windows = new Map<string, number>();

  async function contextWindow(model: string, signal: AbortSignal): Promise<number | null> {
    if (deployment.context_window !== undefined) return deployment.context_window;
    const known = windows.get(model);
    if (known !== undefined) return known;
    // Not answering is left to the chat call itself (502/504); the window is asked again next time.
    const found = await lmStudioContextLength(client, model, signal, discoveryTimeoutMs).catch(() => null);
    if (found !== null) windows.set(model, found);
    return found;
  }

  /** @throws RelayError 400 `context_length_exceeded` when the estimated prompt plus `max_tokens` is over the window */
  async function checkContextWindow(call: ProviderCall): Promise<void> {
    const window = await contextWindow(call.body.model, call.signal);
    if (window === null) return;
    const promptTokens = countRequestPromptTokens({
      messages: call.body.messages,
      tools: (call.body as Record<string, unknown>).tools,
    });
    assertFitsContextWindow({
      promptTokens,
      estimated: true,
      maxTokens: requestedMaxTokens(call.body),
      contextWindow: window,
    });
  }

  return withPreflight("lmstudio", inner, checkContextWindow, () => client.close());
}
