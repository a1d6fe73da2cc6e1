/**
 * The one interface between the server and every backend. The server,
 * the router and the recorder know providers only through it; a new
 * backend is a new folder under `providers/` (with an `index.ts` declaring
 * its `ProviderModule`) and one line in `modules.ts`.
 */
import type { ChatCompletionRequest } from "../protocol/chat-request.js";
import type { ChatCompletion, ChatCompletionChunk } from "../protocol/chat-completion.js";
import type { Logger } from "pino";
import type { Deployment } from "../config/schema.js";
import type { EmbeddingRequest } from "../protocol/embeddings.js";
import type { NativeProtocol, RawPrompt } from "../protocol/inbound.js";

/** One call to a backend. */
export interface ProviderCall {
  /** The client's body with `model` set to the upstream model (and, for streams, `stream_options.include_usage` added). Unknown fields are kept. */
  body: ChatCompletionRequest;
  /** Aborted when the client disconnects or the server stops. */
  signal: AbortSignal;
  /** The exchange's `x-request-id`, for upstream correlation. */
  requestId: string;
  /**
   * `body` as JSON text, when it could be made from the client's own bytes
   * without serialising the body again (src/exchange/exchange.ts
   * `upstreamJson`). Pass-through providers send it as is; absent: serialise `body`.
   */
  json?: string;
  /**
   * The client's bare prompt (legacy completions): a raw-completion provider completes it as it is, with no prompt
   * format and no tools; other providers ignore it and complete `body` (the prompt as one user message).
   */
  rawPrompt?: RawPrompt;
}

/** A non-streaming answer. */
export interface ProviderCompletion {
  /** The body to return to the client unchanged (bytes as the upstream sent them). */
  rawBody: string;
  /** The same body as an object, when the provider built it (echo, translators); pass-through providers leave it out and the recorder parses `rawBody`. */
  completion?: ChatCompletion;
  /** True when the `usage` in the body was estimated by the proxy (the backend reported no counts); the record is flagged. */
  usageEstimated?: boolean;
  /**
   * The tool convention a raw-completion provider offered the request's `tools` with and read the answer with
   * (`hermes`, …; `prompt-formats/tools/`); recorded as `llm_relay_exchanges.tool_convention`. Absent: none.
   */
  toolConvention?: string;
}

/** One SSE event of a streamed answer. */
export interface ProviderStreamEvent {
  /** The `data:` payload exactly as the upstream sent it (forwarded to the client unchanged). */
  data: string;
  /** The same payload as an object, when the provider built it; pass-through providers leave it out (no JSON parsing on the request path). */
  chunk?: ChatCompletionChunk;
  /** True on a chunk whose `usage` was estimated by the proxy; the record is flagged. */
  usageEstimated?: boolean;
  /** On the first event of a stream: as `ProviderCompletion.toolConvention`. */
  toolConvention?: string;
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
  /**
   * The same stream as SSE text, for providers whose upstream speaks
   * OpenAI's streaming format: blocks of complete events exactly as the
   * upstream sent them (comments and other fields included), `data: [DONE]`
   * and what follows it left out. The server forwards these bytes as they
   * arrive and reads them for the record later; absent for providers that
   * build their chunks (the server uses {@link stream}). Fails like `stream`.
   */
  streamSse?(call: ProviderCall): AsyncIterable<string>;
  /** Releases connections (called once at shutdown). */
  close?(): Promise<void>;
  /**
   * Embeddings (`POST /v1/embeddings`), for backends that have them; absent
   * otherwise (the route answers 400 `embeddings_not_supported`). Rejects
   * like `complete`.
   */
  embed?(call: EmbeddingCall): Promise<EmbeddingResult>;
  /**
   * The deployment's upstream endpoint for an inbound protocol it speaks
   * natively (Anthropic Messages, OpenAI Responses), or undefined when it
   * does not (the exchange is then translated to chat and sent through
   * `complete`/`stream`). Whether a deployment is *used* natively is the
   * deployment's `protocols` setting; this says only what the provider can do.
   */
  native?(protocol: NativeProtocol): NativeEndpoint | undefined;
  /**
   * True when the provider completes a {@link ProviderCall.rawPrompt} with its `suffix` (fill-in-the-middle:
   * llama.cpp's `/infill`); a call with a suffix to any other provider is refused with 400 naming `suffix`.
   */
  readonly fillInTheMiddle?: boolean;
}

/**
 * A client's request in a protocol other than Chat Completions, sent to an
 * upstream that speaks it as it is (only `model` renamed when needed).
 */
export interface NativeCall {
  protocol: NativeProtocol;
  /** The client's body as JSON text, `model` set to the upstream model. */
  json: string;
  /** Whether the client asked for a stream. */
  stream: boolean;
  /** The protocol's own request headers to forward (`anthropic-version`, `anthropic-beta`, …), lowercase names. */
  headers: Record<string, string>;
  /** Aborted when the client disconnects or the server stops. */
  signal: AbortSignal;
  /** The exchange's `x-request-id`, for upstream correlation. */
  requestId: string;
}

/**
 * An upstream endpoint that speaks an inbound protocol natively. Both
 * methods fail like `ChatProvider.complete` (a `RelayError`: 502
 * unreachable, 504 timeout, the upstream's status and error for an HTTP
 * error; 502 `upstream_invalid_response` for a 2xx that is not the protocol's answer).
 */
export interface NativeEndpoint {
  /** A non-streamed answer: the upstream's body as it sent it. */
  complete(call: NativeCall): Promise<{ rawBody: string }>;
  /** A streamed answer: blocks of complete SSE events exactly as the upstream sent them (`event:` lines included). */
  streamSse(call: NativeCall): AsyncIterable<string>;
}

/** One embeddings call to a backend. */
export interface EmbeddingCall {
  /** The client's body with `model` set to the upstream model. Unknown fields are kept. */
  body: EmbeddingRequest;
  /** Aborted when the client disconnects or the server stops. */
  signal: AbortSignal;
  /** The exchange's `x-request-id`, for upstream correlation. */
  requestId: string;
}

/** An embeddings answer. */
export interface EmbeddingResult {
  /** The OpenAI `list` body to return to the client (the upstream's bytes for pass-through providers). */
  rawBody: string;
  /** `model` of the answer, or null when the upstream named none. */
  model: string | null;
  /** Input tokens the upstream reported (`usage.prompt_tokens`, Ollama's `prompt_eval_count`), or null when it reported none. */
  promptTokens: number | null;
  /** True when `promptTokens` (and the body's `usage`) was estimated by the proxy, the backend having reported no count. */
  usageEstimated?: boolean;
  /** Length of the vectors, or null when there is none. */
  dimensions: number | null;
}

/** What a provider factory gets besides its deployment. */
export interface ProviderContext {
  /** The process environment (API keys are read from it by name). */
  env: NodeJS.ProcessEnv;
  /** Logger for warnings (once per deployment) and `debug` output. */
  logger: Logger;
  /** Log each rendered prompt and raw backend payload, secrets removed (`--debug`, `LLM_RELAY_DEBUG=1`). */
  debug: boolean;
  /** Directory relative paths in the deployment (`model_path`, `jinja:<file>`) resolve against: the config file's, else the working directory. */
  baseDir: string;
  /** The clock discovered facts (context windows) expire by, in ms; `performance.now()` when absent. Tests inject their own. */
  now?: () => number;
}

/**
 * Builds a provider for one deployment. Must not do I/O (discovery of the
 * context window or chat template happens lazily, on the first call).
 */
export type ProviderFactory = (deployment: Deployment, context: ProviderContext) => ChatProvider;
