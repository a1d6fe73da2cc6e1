/**
 * `createClient`: the library's functions bound to one transport —
 * in-process (`{ config }`) or HTTP (`{ baseURL }`). Every call resolves
 * with an {@link LLMResponse}; nothing rejects or throws.
 */
import { performance } from "node:perf_hooks";
import type { ChatCompletionChunk } from "../protocol/chat-completion.js";
import type { ChatCompletionRequest } from "../protocol/chat-request.js";
import { StreamAccumulator } from "../protocol/stream-accumulator.js";
import { callSignal, type CallSignal } from "./call-signal.js";
import { DeltaQueue } from "./delta-queue.js";
import { HttpTransport } from "./http-transport.js";
import { InProcessTransport } from "./in-process-transport.js";
import { failureResponse, successResponse } from "./llm-response.js";
import { buildRequestBody, FALLBACK_MODEL, promptMessages } from "./request-options.js";
import { runSync, type SyncClientSpec } from "./sync-call.js";
import { TransportFailure, type Transport } from "./transport.js";
import type {
  ChatMessage,
  ClientOptions,
  CompletionOptions,
  CompletionStream,
  LLMClient,
  LLMResponse,
  SyncCompletionOptions,
} from "./types.js";

type Env = Record<string, string | undefined>;

/**
 * Creates a client.
 * - `createClient()` or `createClient({ config })`: in-process, through the same router, providers and
 *   recorder as the server; every call is recorded in logs.db (written before the call resolves).
 *   `config` is a path to an `llm-relay.yaml` or a (partial) RelayConfig merged over `loadConfig()`.
 * - `createClient({ baseURL, apiKey? })`: over HTTP to a running llm-relay or any OpenAI-compatible API.
 *
 * Nothing is opened until the first call; a bad config shows up as that call's `error`.
 */
export function createClient(options: ClientOptions = {}): LLMClient {
  return new RelayClient(options, specOf(options));
}

/** What a worker thread needs to build the same client (plain data). */
function specOf(options: ClientOptions): SyncClientSpec {
  if (options.baseURL !== undefined)
    return { baseURL: options.baseURL, ...(options.apiKey ? { apiKey: options.apiKey } : {}) };
  return options.config === undefined ? {} : { config: options.config };
}

/** The client; `spec` null means "the default client" for the sync forms. */
export class RelayClient implements LLMClient {
  private readonly transport: Transport;
  private readonly env: () => Env;

  /**
   * @param spec how the sync forms' worker rebuilds this client (null: the default client)
   * @param env where the `LLM_*` defaults and API keys are read at each call (default: `options.env`, else `process.env`)
   */
  constructor(
    options: ClientOptions,
    private readonly spec: SyncClientSpec | null,
    env?: () => Env,
  ) {
    const fixedEnv = options.env;
    this.env = env ?? (() => fixedEnv ?? process.env);
    this.transport =
      options.baseURL !== undefined
        ? new HttpTransport(options.baseURL, options.apiKey)
        : new InProcessTransport(options.config, () => this.env());
  }

  generateCompletion(prompt: string, options?: CompletionOptions): Promise<LLMResponse> {
    const startedAt = performance.now();
    try {
      return this.complete(promptMessages(prompt), options, startedAt);
    } catch (error) {
      return Promise.resolve(failureResponse(error, startedAt, performance.now(), this.fallbackModel(options)));
    }
  }

  generateCompletionWithMessages(messages: readonly ChatMessage[], options?: CompletionOptions): Promise<LLMResponse> {
    return this.complete(messages, options, performance.now());
  }

  streamCompletion(messagesOrPrompt: string | readonly ChatMessage[], options?: CompletionOptions): CompletionStream {
    const startedAt = performance.now();
    const call = callSignal(safeSignal(options), safeTimeout(options));
    const queue = new DeltaQueue(call.signal, () =>
      call.cancel("The stream's consumer stopped reading before the end"),
    );
    const response = this.stream(messagesOrPrompt, options, startedAt, call, queue).finally(() => {
      queue.end();
      call.dispose();
    });
    return { [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](), response };
  }

  generateCompletionSync(prompt: string, options?: SyncCompletionOptions): LLMResponse {
    return runSync({ client: this.spec, method: "generateCompletion", input: prompt, options, env: { ...this.env() } });
  }

  generateCompletionWithMessagesSync(messages: readonly ChatMessage[], options?: SyncCompletionOptions): LLMResponse {
    return runSync({
      client: this.spec,
      method: "generateCompletionWithMessages",
      input: messages,
      options,
      env: { ...this.env() },
    });
  }

  ready(): Promise<void> {
    return this.transport.ready().catch(() => undefined);
  }

  close(): Promise<void> {
    return this.transport.close().catch(() => undefined);
  }

  private async complete(
    messages: unknown,
    options: CompletionOptions | undefined,
    startedAt: number,
  ): Promise<LLMResponse> {
    let body: ChatCompletionRequest;
    try {
      body = this.body(messages, options, false);
    } catch (error) {
      return failureResponse(error, startedAt, performance.now(), this.fallbackModel(options));
    }
    const call = callSignal(options?.signal, options?.timeoutMs);
    try {
      const result = await this.transport.complete(body, call.signal);
      const recorded = await this.transport.settle(result.exchangeId);
      return successResponse(body, result.completion!, startedAt, result.finishedAt, result.exchangeId, recorded);
    } catch (error) {
      const endedAt = performance.now();
      const failure = error instanceof TransportFailure ? error : new TransportFailure(error, undefined);
      const recorded = await this.transport.settle(failure.exchangeId);
      return failureResponse(failure.cause, startedAt, endedAt, body.model, {
        text: "",
        finishReason: null,
        exchangeId: failure.exchangeId,
        recorded,
      });
    } finally {
      call.dispose();
    }
  }

  private async stream(
    messagesOrPrompt: unknown,
    options: CompletionOptions | undefined,
    startedAt: number,
    call: CallSignal,
    queue: DeltaQueue,
  ): Promise<LLMResponse> {
    let body: ChatCompletionRequest;
    try {
      body = this.body(
        typeof messagesOrPrompt === "string" ? promptMessages(messagesOrPrompt) : messagesOrPrompt,
        options,
        true,
      );
    } catch (error) {
      return failureResponse(error, startedAt, performance.now(), this.fallbackModel(options));
    }
    const accumulator = new StreamAccumulator();
    const onChunk = (chunk: ChatCompletionChunk) => {
      accumulator.add(chunk);
      const delta = chunk.choices?.find((c) => (c.index ?? 0) === 0)?.delta?.content;
      return typeof delta === "string" && delta.length > 0 ? queue.push(delta) : undefined;
    };
    try {
      const result = await this.transport.stream(body, call.signal, onChunk);
      queue.end();
      const recorded = await this.transport.settle(result.exchangeId);
      return successResponse(
        body,
        accumulator.toCompletion(),
        startedAt,
        result.finishedAt,
        result.exchangeId,
        recorded,
      );
    } catch (error) {
      const endedAt = performance.now();
      queue.end();
      const failure = error instanceof TransportFailure ? error : new TransportFailure(error, undefined);
      const recorded = await this.transport.settle(failure.exchangeId);
      const partial = {
        text: accumulator.text,
        finishReason: accumulator.finishReason,
        exchangeId: failure.exchangeId,
        recorded,
      };
      return failureResponse(failure.cause, startedAt, endedAt, body.model, partial);
    }
  }

  /** The request body (defaults from the environment and the transport). */
  private body(messages: unknown, options: CompletionOptions | undefined, stream: boolean): ChatCompletionRequest {
    const env = this.env();
    const explicit = (options && typeof options === "object" && options.model) || env.LLM_MODEL_NAME;
    // The transport's default model needs the config; only look it up when nothing else names a model.
    const defaultModel = explicit ? null : this.transport.defaultModel;
    return buildRequestBody(messages, options, env, defaultModel, stream);
  }

  /** The model named in a failed call's answer, when no body could be built. */
  private fallbackModel(options: CompletionOptions | undefined): string {
    const model = options && typeof options === "object" ? options.model : undefined;
    return (typeof model === "string" && model) || this.env().LLM_MODEL_NAME || FALLBACK_MODEL;
  }
}

/** The caller's signal, if it is one (an invalid one is reported by the argument checks). */
function safeSignal(options: CompletionOptions | undefined): AbortSignal | undefined {
  const signal = options && typeof options === "object" ? options.signal : undefined;
  return signal instanceof AbortSignal ? signal : undefined;
}

function safeTimeout(options: CompletionOptions | undefined): number | undefined {
  const timeoutMs = options && typeof options === "object" ? options.timeoutMs : undefined;
  return typeof timeoutMs === "number" && Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : undefined;
}
