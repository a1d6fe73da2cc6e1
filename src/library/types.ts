/**
 * The public types of the library API (`import { … } from "llm-relay"`):
 * the answer of every call ({@link LLMResponse}), the per-call options,
 * the messages a caller passes, and the client.
 */
import type { LibraryConfigInput } from "../config/load.js";

/** A role the library accepts in a message. */
export type LibraryRole = "system" | "user" | "assistant" | "tool";

/**
 * One message of a conversation, in the Chat Completions shape. Validated
 * with the server's own zod schema (`protocol/chat-request.ts`), restricted
 * to the roles `system`, `user`, `assistant` and `tool`; other fields
 * (`name`, `tool_calls`, `tool_call_id`, content parts) pass through.
 */
export interface ChatMessage {
  role: LibraryRole;
  /** The text, an array of content parts (`{type:"text",text}`…), or null (an assistant message with tool calls). */
  content?: string | { type: string; text?: string; [key: string]: unknown }[] | null;
  name?: string;
  tool_calls?: { id?: string; type?: string; function: { name: string; arguments?: string } }[];
  tool_call_id?: string;
  [key: string]: unknown;
}

/**
 * The answer of every call. A call never rejects: any failure (connection,
 * timeout, HTTP error, invalid argument, unknown model, abort) gives
 * `success: false` with `error` set.
 */
export interface LLMResponse {
  /** The assistant's text ("" on failure; the part received when a stream broke off). */
  content: string;
  /** `inputTokens + outputTokens`. */
  tokensUsed: number;
  /**
   * Prompt tokens. In-process: the count of the call's record in logs.db (`responses.input_tokens`),
   * whatever the outcome — the upstream's `usage.prompt_tokens`, else counted with gpt-tokenizer.
   * Over HTTP: the upstream's count (counted locally when it reported none); 0 on failure.
   */
  inputTokens: number;
  /** Completion tokens, by the same rule as `inputTokens` (a broken-off stream: the text received, counted). */
  outputTokens: number;
  /**
   * True when the token counts were estimated with gpt-tokenizer because the upstream reported no
   * `usage` (in-process: the record's `usage_estimated`); false when reported, or when both are 0 for lack of a record.
   */
  usageEstimated: boolean;
  /** Seconds from the call to the last token received (or to the failure). */
  responseTime: number;
  /** The model that answered, as the upstream named it; else the model name that was asked for. */
  modelUsed: string;
  /** Whether the call produced a complete answer. */
  success: boolean;
  /** What went wrong, when `success` is false. */
  error?: string;
  /** The upstream's `finish_reason` (`stop`, `length`, `tool_calls`…), or null when none came. */
  finishReason: string | null;
  /**
   * In-process: the exchange's id, which is `responses.id` (and `turns.id`) in logs.db.
   * Over HTTP: the completion's `id` (e.g. `chatcmpl-…`), or "" when no answer came.
   */
  id: string;
}

/** Options of one call. Every field is optional. */
export interface CompletionOptions {
  /** Model name (or alias, or `prefix/…`). Default: `$LLM_MODEL_NAME`, else the config's `default_model`, else `echo`. */
  model?: string;
  /** Sampling temperature. Default: `$LLM_TEMPERATURE`, else 0.7; null sends none (the upstream's default). */
  temperature?: number | null;
  /** Largest number of tokens to generate (`max_tokens`). Default: `$LLM_MAX_TOKENS`, else 500; null sends none (the upstream's default). */
  maxTokens?: number | null;
  /** Nucleus sampling (`top_p`). Default: none (0.9 for Ollama deployments, see the README). */
  topP?: number;
  /** Stop sequence(s). */
  stop?: string | string[];
  /** Aborts the call; the answer then has `success: false`. Not available in the `…Sync` forms. */
  signal?: AbortSignal;
  /** Gives up after this many ms (the answer then has `success: false`). Default: no limit beyond the deployment's own timeouts. */
  timeoutMs?: number;
  /** Who the call is made for; sent as the request's `user` field (OpenAI's end-user id) and so recorded in `prompt_json`. */
  tenant?: string;
  /** Provider-specific body fields (e.g. `{ repeat_penalty: 1.2, seed: 7 }`), merged into the request body. They cannot replace `model`, `messages` or `stream`. */
  extra?: Record<string, unknown>;
}

/** {@link CompletionOptions} without `signal`, which cannot cross to the worker thread of the `…Sync` forms. */
export type SyncCompletionOptions = Omit<CompletionOptions, "signal">;

/**
 * A streamed answer: iterate it for the text deltas as they arrive; `response`
 * resolves to the final {@link LLMResponse} (it never rejects). Leaving the
 * loop early (`break`) cancels the request. One consumer at a time.
 */
export interface CompletionStream extends AsyncIterable<string> {
  /** The final answer, once the stream has ended (or failed). */
  readonly response: Promise<LLMResponse>;
}

/** How a client reaches a model. */
export type ClientOptions =
  | {
      /**
       * In-process, through the same router, providers and recorder as the server:
       * a full or partial {@link RelayConfig} (missing fields come from `loadConfig()`), or the path of an
       * `llm-relay.yaml`. Omitted: `loadConfig()` (`$LLM_RELAY_CONFIG`, `./llm-relay.yaml`, else `echo` with
       * logs.db at `$LLM_RELAY_DB` or the default data dir).
       */
      config?: string | LibraryConfigInput;
      baseURL?: undefined;
      /** Environment read for the `LLM_*` defaults and upstream API keys. Default: `process.env` at call time. */
      env?: Record<string, string | undefined>;
    }
  | {
      /** A running llm-relay, or any OpenAI-compatible API, up to and including `/v1` (e.g. `http://127.0.0.1:11435/v1`). */
      baseURL: string;
      /** Sent as `Authorization: Bearer …` (llm-relay ignores it). */
      apiKey?: string;
      config?: undefined;
      env?: Record<string, string | undefined>;
    };

/** A client: the same functions as the package root, bound to one transport. */
export interface LLMClient {
  /** Asks for a completion of one user message. Never rejects. */
  generateCompletion(prompt: string, options?: CompletionOptions): Promise<LLMResponse>;
  /** Asks for the next assistant message of a conversation. Never rejects. */
  generateCompletionWithMessages(messages: readonly ChatMessage[], options?: CompletionOptions): Promise<LLMResponse>;
  /** Streams the answer as text deltas; `.response` gives the final {@link LLMResponse}. */
  streamCompletion(messagesOrPrompt: string | readonly ChatMessage[], options?: CompletionOptions): CompletionStream;
  /** Blocking {@link generateCompletion}, run in a worker thread. For scripts and CLIs only — never inside a server. */
  generateCompletionSync(prompt: string, options?: SyncCompletionOptions): LLMResponse;
  /** Blocking {@link generateCompletionWithMessages}, run in a worker thread. For scripts and CLIs only — never inside a server. */
  generateCompletionWithMessagesSync(messages: readonly ChatMessage[], options?: SyncCompletionOptions): LLMResponse;
  /**
   * Opens what calls need without calling a model (in-process: the config, the providers, the
   * record worker and logs.db; over HTTP: nothing), so that this set-up is not part of the first
   * call's time (e.g. a benchmark). Optional: the first call does it otherwise. Never rejects; a
   * problem (a bad config, a database that cannot be opened) shows up as the next call's `error`.
   */
  ready(): Promise<void>;
  /** Writes out pending records and releases connections and the database. Later calls fail with `success: false`. */
  close(): Promise<void>;
}
