/**
 * The inbound protocols llm-relay serves, and the contract each one other
 * than Chat Completions implements to ride the one exchange core
 * (`src/exchange/`, `src/server/routes/inbound-exchange.ts`).
 *
 * The core speaks Chat Completions: every provider does, the router and the
 * recorder read it. An inbound protocol is therefore an adapter with two
 * sides. Going up, it validates the client's request and translates it to a
 * chat request (what a deployment that does not speak the protocol gets,
 * and what the record's llm rows are built from). Coming back, it turns a
 * chat completion, a stream of `chat.completion.chunk`s and a `RelayError`
 * into the protocol's own answer, events and error shape. A deployment whose
 * upstream speaks the protocol natively gets the client's own bytes instead
 * (`ChatProvider.native`), and the answer goes back as the upstream sent it.
 *
 * Protocols: OpenAI Chat Completions
 * (https://platform.openai.com/docs/api-reference/chat), Anthropic Messages
 * (https://docs.anthropic.com/en/api/messages), OpenAI Responses
 * (https://platform.openai.com/docs/api-reference/responses), Ollama's
 * native API (https://github.com/ollama/ollama/blob/main/docs/api.md), the
 * Gemini API (https://ai.google.dev/api/generate-content) and OpenAI's legacy
 * completions (https://platform.openai.com/docs/api-reference/completions).
 */
import type { ChatCompletion, ChatCompletionChunk } from "./chat-completion.js";
import type { ChatCompletionRequest } from "./chat-request.js";
import type { RelayError } from "./errors.js";

/**
 * An inbound protocol: `chat` (`POST /v1/chat/completions`), `messages` (`POST /v1/messages`),
 * `responses` (`POST /v1/responses`), `ollama` (`POST /api/chat`, `/api/generate`), `gemini`
 * (`POST /v1beta/models/{model}:generateContent`), `completions` (`POST /v1/completions`).
 * Recorded in `llm_relay_exchanges.protocol`.
 */
export type InboundProtocol = "chat" | "messages" | "responses" | "ollama" | "gemini" | "completions";

/** Every inbound protocol. */
export const INBOUND_PROTOCOLS = [
  "chat",
  "messages",
  "responses",
  "ollama",
  "gemini",
  "completions",
] as const satisfies readonly InboundProtocol[];

/**
 * The inbound protocols a deployment's upstream may take natively, as the client's own bytes
 * (a deployment's `protocols` key; `ChatProvider.native`).
 */
export type NativeProtocol = "messages" | "responses";

/** Every protocol a deployment's `protocols` key may name, in the order the config lists them. */
export const DEPLOYMENT_PROTOCOLS = ["chat", "messages", "responses"] as const satisfies readonly InboundProtocol[];

/** Whether `protocol` is one a native upstream may take as it is. */
export function isNativeProtocol(protocol: InboundProtocol): protocol is NativeProtocol {
  return protocol === "messages" || protocol === "responses";
}

/** The inbound protocols served by an adapter (every one but Chat Completions). */
export type AdaptedProtocol = Exclude<InboundProtocol, "chat">;

/** A recorded exchange as an adapter may need it back (OpenAI Responses' `previous_response_id`). */
export interface RecordedExchangeLookup {
  /** The exchange's id (`responses.id`, a lowercase ULID). */
  id: string;
  /** The inbound protocol it came in by. */
  protocol: InboundProtocol;
  /** The client's request as recorded (`prompt_json`: the body as received, secrets removed). */
  request: Record<string, unknown>;
  /** The answer as recorded (`response_json`: the assembled chat completion), or null when there was none. */
  response: Record<string, unknown> | null;
  /** The exchange's status (`ok`, `error`, `cancelled`, `truncated`). */
  status: string;
  /** The request start, ms since the epoch. */
  startedAt: number;
}

/** What an adapter may ask of the server while it translates a request. */
export interface InboundContext {
  /**
   * A recorded exchange by id (writing out what the recorder still holds
   * first), or null when none has that id (or it belongs to another tenant).
   */
  lookupExchange(id: string): Promise<RecordedExchangeLookup | null>;
}

/** The identity of the answer an adapter writes: what its `id`, `model` and start usage say. */
export interface InboundAnswerInfo {
  /** The exchange's id (lowercase ULID); adapters prefix it as their protocol does (`msg_…`, `resp_…`). */
  exchangeId: string;
  /** The model the client asked for. */
  model: string;
  /** Request start, ms since the epoch. */
  startedAt: number;
  /** The prompt's size in tokens as the proxy estimates it (for events that must give usage before the upstream has, e.g. `message_start`). */
  promptTokensEstimate: number;
  /** The client's request as validated by the adapter (`parse`'s result). */
  request: Record<string, unknown>;
}

/**
 * Turns one streamed chat answer into the protocol's events, in order.
 * Each method returns the text to write: SSE (complete events, `event:` lines included
 * where the protocol has them) or NDJSON lines (Ollama), or "" when nothing is to be written yet.
 */
export interface StreamEncoder {
  /** Called with every chunk in order, the usage-only chunk (no choices, `usage` set) included. */
  chunk(chunk: ChatCompletionChunk): string;
  /** Closes a stream that completed (after the last chunk). */
  end(): string;
  /** Closes a stream broken after it began: the protocol's in-band error event. */
  error(error: RelayError): string;
}

/**
 * A prompt to complete as it is, with no prompt format (legacy completions): what a raw-completion backend
 * (`providers/raw/`) completes instead of rendering the chat messages.
 */
export interface RawPrompt {
  /** The prompt text, byte for byte as the client sent it. */
  prompt: string;
  /** The text after the insertion point (fill-in-the-middle), when the client sent `suffix`. */
  suffix?: string;
}

/** A parsed client request: the body as validated, and its chat translation. */
export interface ParsedInbound {
  /** The client's body as validated (unknown fields kept). */
  request: Record<string, unknown>;
  /** The model the client named. */
  model: string;
  /** Whether the client asked for a stream. */
  stream: boolean;
  /** The request as Chat Completions (model as the client named it). */
  chat: ChatCompletionRequest;
  /**
   * Set when part of the request has no Chat Completions equivalent (a hosted tool type, an input item
   * or part): `chat` then leaves it out (it serves the record), a deployment that speaks the protocol
   * natively still gets the request as it is, and an attempt that must translate fails with this
   * error (a 400 naming what) instead of sending a request that says less than the client's.
   */
  untranslatable?: RelayError;
  /**
   * Set when the request is a bare prompt (legacy completions): a raw-completion backend completes it as it is
   * (`ProviderCall.rawPrompt`), while chat backends get `chat` (the prompt as one user message).
   */
  rawPrompt?: RawPrompt;
}

/** One inbound protocol other than Chat Completions (see the module's comment). */
export interface InboundAdapter {
  readonly protocol: AdaptedProtocol;
  /**
   * The `content-type` of a streamed answer; absent: `text/event-stream; charset=utf-8` (SSE).
   * Ollama's NDJSON streams say `application/x-ndjson`.
   */
  readonly streamContentType?: string;
  /**
   * Validates the client's body and translates it.
   * @throws RelayError 400 `invalid_request_error` naming the field; 404 when a referenced record (`previous_response_id`) is unknown
   */
  parse(body: unknown, context: InboundContext): Promise<ParsedInbound>;
  /** The non-streamed answer in the protocol's shape (JSON text), from the chat completion. */
  fromCompletion(completion: ChatCompletion, info: InboundAnswerInfo): string;
  /** A fresh encoder for one streamed answer. */
  streamEncoder(info: InboundAnswerInfo): StreamEncoder;
  /** The protocol's error body for `error` (sent with `error.status`). */
  errorBody(error: RelayError): Record<string, unknown>;
  /**
   * The protocol's request headers a native upstream must get, from the
   * client's (`anthropic-version`, `anthropic-beta`, `openai-beta`, …), lowercase names.
   */
  forwardedHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string>;
}
