/**
 * The one interface between the server and every backend. The server,
 * the router and the recorder know providers only through it; a new
 * backend is a new folder under `providers/` and one line in the registry.
 */
import type { ChatCompletionRequest } from "../protocol/chat-request.js";
import type { ChatCompletion, ChatCompletionChunk } from "../protocol/chat-completion.js";
import type { Deployment } from "../config/schema.js";

/** One call to a backend. */
export interface ProviderCall {
  /** The client's body with `model` set to the upstream model (and, for streams, `stream_options.include_usage` added). Unknown fields are kept. */
  body: ChatCompletionRequest;
  /** Aborted when the client disconnects or the server stops. */
  signal: AbortSignal;
  /** The exchange's `x-request-id`, for upstream correlation. */
  requestId: string;
}

/** A non-streaming answer. */
export interface ProviderCompletion {
  /** The body to return to the client unchanged (bytes as the upstream sent them). */
  rawBody: string;
  /** The same body as an object, when the provider built it (echo, translators); pass-through providers leave it out and the recorder parses `rawBody`. */
  completion?: ChatCompletion;
}

/** One SSE event of a streamed answer. */
export interface ProviderStreamEvent {
  /** The `data:` payload exactly as the upstream sent it (forwarded to the client unchanged). */
  data: string;
  /** The same payload as an object, when the provider built it; pass-through providers leave it out (no JSON parsing on the request path). */
  chunk?: ChatCompletionChunk;
}

/**
 * A backend. Both methods reject (or the iterator throws) with a
 * `RelayError` carrying the OpenAI status and error body: 502 when the
 * upstream is unreachable, 504 on a timeout, the upstream's own status
 * for an HTTP error.
 */
export interface ChatProvider {
  /** Provider kind, as in the config (`echo`, `openai-compatible`, …). */
  readonly kind: string;
  /** A non-streaming chat completion. */
  complete(call: ProviderCall): Promise<ProviderCompletion>;
  /** A streamed chat completion: `chat.completion.chunk` events in order, ending after the last one (no `[DONE]` event). */
  stream(call: ProviderCall): AsyncIterable<ProviderStreamEvent>;
  /** Releases connections (called once at shutdown). */
  close?(): Promise<void>;
}

/** Builds a provider for one deployment. */
export type ProviderFactory = (deployment: Deployment, env: NodeJS.ProcessEnv) => ChatProvider;
