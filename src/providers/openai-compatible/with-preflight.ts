/**
 * A provider that checks each call before passing it, unchanged, to an
 * inner `openai-compatible` provider (vLLM, LM Studio: the context-window
 * check against the server's own model window).
 */
import type { ChatProvider, ProviderCall, ProviderCompletion, ProviderStreamEvent } from "../types.js";

/**
 * Wraps `inner` so that `preflight` runs before every `complete`, `stream` and `streamSse`.
 * @param kind the provider kind reported (`vllm`, `lmstudio`)
 * @param inner the provider that does the call
 * @param preflight throws (e.g. RelayError 400 `context_length_exceeded`) to refuse a call before anything is sent
 * @param closeExtra releases what the wrapper itself holds (e.g. its discovery client); runs alongside `inner.close`
 */
export function withPreflight(
  kind: string,
  inner: ChatProvider,
  preflight: (call: ProviderCall) => Promise<void>,
  closeExtra?: () => Promise<void>,
): ChatProvider {
  async function* preflighted(
    call: ProviderCall,
    run: (call: ProviderCall) => AsyncIterable<string>,
  ): AsyncGenerator<string> {
    await preflight(call);
    yield* run(call);
  }

  return {
    kind,

    async complete(call: ProviderCall): Promise<ProviderCompletion> {
      await preflight(call);
      return inner.complete(call);
    },

    async *stream(call: ProviderCall): AsyncIterable<ProviderStreamEvent> {
      await preflight(call);
      yield* inner.stream(call);
    },

    ...(inner.streamSse ? { streamSse: (call: ProviderCall) => preflighted(call, (c) => inner.streamSse!(c)) } : {}),

    async close(): Promise<void> {
      await Promise.all([inner.close?.(), closeExtra?.()]);
    },

    // Embeddings need no preflight (the window check is about chat prompts), nor do native
    // (Responses/Messages) calls, which the proxy does not read as chat before sending.
    ...(inner.embed ? { embed: inner.embed.bind(inner) } : {}),
    ...(inner.native ? { native: inner.native.bind(inner) } : {}),
  };
}
