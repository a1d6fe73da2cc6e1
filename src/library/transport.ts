/**
 * How a client reaches a model: in-process (router, providers, recorder)
 * or over HTTP. Transports throw `RelayError`s; the client turns every
 * failure into an `LLMResponse` with `success: false`.
 */
import type { ChatCompletion, ChatCompletionChunk } from "../protocol/chat-completion.js";
import type { ChatCompletionRequest } from "../protocol/chat-request.js";
import type { TokenUsage } from "../recording/types.js";

/** Called for each chunk of a stream; a returned promise holds the next chunk back until it settles (backpressure). */
export type ChunkHandler = (chunk: ChatCompletionChunk) => void | Promise<void>;

/** The end of a call. */
export interface TransportResult {
  /** The completion (non-streaming calls only). */
  completion?: ChatCompletion;
  /** `performance.now()` when the last byte or event of the answer arrived. */
  finishedAt: number;
  /** In-process: the exchange id (logs.db `responses.id`). */
  exchangeId?: string;
}

/** Thrown by `stream` when it fails: carries the exchange id, if any, and the cause. */
export class TransportFailure extends Error {
  constructor(
    override readonly cause: unknown,
    readonly exchangeId: string | undefined,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "TransportFailure";
  }
}

/** One way of running chat completions. */
export interface Transport {
  /** The model used when neither the call nor `LLM_MODEL_NAME` names one (the config's `default_model`), or null. */
  readonly defaultModel: string | null;
  /**
   * A non-streaming completion of `body`.
   * @throws TransportFailure wrapping a RelayError (HTTP status and OpenAI error body) or the abort reason
   */
  complete(body: ChatCompletionRequest, signal: AbortSignal): Promise<TransportResult>;
  /**
   * A streamed completion: `onChunk` sees each `chat.completion.chunk` in order.
   * @throws TransportFailure as `complete`, also after some chunks (a broken stream)
   */
  stream(body: ChatCompletionRequest, signal: AbortSignal, onChunk: ChunkHandler): Promise<TransportResult>;
  /**
   * Resolves once everything up to now is recorded (in-process; at once otherwise), with the token
   * counts the record of `exchangeId` holds (`estimated` as its `usage_estimated`), or null when
   * nothing was recorded for it (no such exchange, recording off, or over HTTP). Never rejects.
   */
  settle(exchangeId?: string): Promise<TokenUsage | null>;
  /**
   * Opens what calls need (in-process: the config, providers and the record worker with its
   * logs.db) without calling a model. Never rejects: a problem shows up as the next call's error.
   */
  ready(): Promise<void>;
  /** Releases connections (and, in-process, writes the queue out and closes the database). */
  close(): Promise<void>;
}
