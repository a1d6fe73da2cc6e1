/**
 * What the proxy records of one exchange, and the interface every record
 * store implements (SQLite now, PostgreSQL later).
 */
import type { ChatMessage } from "../protocol/chat-request.js";
import type { ChatCompletion, ChatCompletionChunk } from "../protocol/chat-completion.js";
import type { ErrorClass } from "../protocol/errors.js";
import type { InboundProtocol, NativeProtocol, RecordedExchangeLookup } from "../protocol/inbound.js";
import type { LlmChatOptions } from "./llm-options.js";
import type { DeploymentPrices } from "../catalog/cost.js";

/** Most characters of the client's `User-Agent` a record keeps (`ExchangeRecord.client`). */
export const MAX_CLIENT_CHARS = 256;

/** Outcome of an exchange. */
export type ExchangeStatus = "ok" | "error" | "cancelled" | "truncated";

/** Token counts of one exchange. `estimated` is true when counted by gpt-tokenizer, not reported by the upstream. */
export interface TokenUsage {
  /** Prompt tokens (`usage.prompt_tokens`). */
  input: number;
  /** Completion tokens (`usage.completion_tokens`). */
  output: number;
  /** True when the counts were estimated locally. */
  estimated: boolean;
  /**
   * llm's `token_details`: the upstream's usage object without `prompt_tokens`,
   * `completion_tokens` and `total_tokens`, with zero counts and empty objects
   * removed (llm's `simplify_usage_dict`), e.g.
   * `{"prompt_tokens_details": {"cached_tokens": 1024}, "completion_tokens_details": {"reasoning_tokens": 96}}`,
   * or Anthropic's `{"cache_creation_input_tokens": …, "cache_read_input_tokens": …}` (token counts).
   * Null or absent when nothing remains. Stored as `responses.token_details` and `turns.token_details`.
   */
  details?: Record<string, unknown> | null;
}

/** One tool call made by the assistant in its reply. */
export interface RecordedToolCall {
  id: string;
  name: string;
  /** The JSON-encoded arguments as the model produced them. */
  arguments: string;
}

/**
 * Everything recorded of one exchange. Built by the server once the
 * exchange has ended (successfully or not) and handed to the recorder.
 */
export interface ExchangeRecord {
  /** Lowercase ULID; its time part is `startedAt`. Used for `responses.id` and `turns.id`. */
  id: string;
  /** The `x-request-id` of the HTTP exchange. */
  requestId: string;
  /** Request start, ms since the epoch. */
  startedAt: number;
  /** Request start, µs since the epoch (integer, in the ms of `startedAt`): what `datetime_utc` shows. Absent: `startedAt` with 0 µs. */
  startedAtUs?: number;
  /** Total duration from request received to last byte sent, in ms. */
  durationMs: number;
  /** Time to first token (first content chunk sent to the client), in ms; null for non-streaming or no output. */
  ttftMs: number | null;
  /** The model name the client asked for (what `responses.model` holds). */
  requestedModel: string;
  /** The model the upstream says it used (`model` of its response), or null when unknown. */
  resolvedModel: string | null;
  /** Provider kind that served it (`echo`, `openai-compatible`, …), or null when none was reached. */
  provider: string | null;
  /** Deployment name from the config, or null. */
  deployment: string | null;
  /** The model name sent upstream, or null. */
  upstreamModel: string | null;
  /** The deployment's own prices from the config (`input_cost_per_mtok`, …; `catalog/cost.ts`), absent when it sets none. */
  prices?: DeploymentPrices | null;
  /**
   * The request as Chat Completions, secrets removed: the client's body for `chat`, the adapter's
   * translation for other protocols. The llm rows (tools, options) are built from it; it is `prompt_json`
   * unless `receivedBody` is set.
   */
  requestBody: Record<string, unknown>;
  /** The inbound protocol the client spoke; absent: `chat`. */
  protocol?: InboundProtocol;
  /**
   * The tool convention a raw-completion backend's prompt offered the request's `tools` with (`hermes`,
   * `llama3-json`, …; `prompt-formats/tools/`); absent when none was used. Stored as `tool_convention`.
   */
  toolConvention?: string;
  /** The client's `User-Agent` header, cut to {@link MAX_CLIENT_CHARS} characters; absent when it sent none. Stored as `llm_relay_exchanges.client`. */
  client?: string;
  /** For a protocol other than chat: the client's body as received, secrets removed (stored as `prompt_json`). */
  receivedBody?: Record<string, unknown> | null;
  /** The validated input messages, in order. */
  messages: ChatMessage[];
  /**
   * The request's options as llm's OpenAI chat model takes them (see
   * `llmChatOptions` in llm-options.ts), stored as `options_json`; every
   * other request field is only in `requestBody`.
   */
  options: LlmChatOptions;
  /** Whether the client asked for a stream. */
  stream: boolean;
  /** The assistant's text (complete, or partial for cancelled/truncated). */
  responseText: string;
  /** Tool calls in the reply, if any. */
  toolCalls: RecordedToolCall[];
  /**
   * The reasoning text of the reply (`reasoning_content`, `reasoning`, Ollama's `thinking`,
   * Anthropic's `thinking` blocks), complete or partial; null or absent when the model gave none.
   * Stored as `responses.reasoning` and as a `reasoning` part before the reply's text.
   */
  reasoning?: string | null;
  /** `finish_reason` reported upstream, or null. */
  finishReason: string | null;
  /** Usage as reported by the upstream; null when none was reported (the recorder then estimates it). */
  usage: TokenUsage | null;
  /** The assembled completion (or error body) stored as `response_json`. */
  responseJson: Record<string, unknown> | null;
  /** HTTP status the client saw (or the upstream's status for relayed errors). */
  httpStatus: number;
  /** Outcome. */
  status: ExchangeStatus;
  /** Error text, or null. */
  error: string | null;
  /** Time spent in the proxy itself, excluding waits on the upstream and on a slow client, in ms. */
  overheadMs?: number | null;
  /** Cost in USD from the model catalog's prices and `usage` (estimated when `usage.estimated`); null when the model has no price. */
  costUsd?: number | null;
  /** Every upstream attempt made for this exchange (retries, fallbacks), in order; empty when none was made. */
  attempts?: AttemptRecord[];
  /** The tenant the request was made for (`default` without API keys); null or absent when not made through the server (tools, benchmarks). */
  tenantId?: string | null;
  /** The id of the API key that made the request (`key_…`), or null without one. */
  keyId?: string | null;
  /**
   * How the usage ledger books this exchange (from the server's admission), or null/absent when it is
   * not booked. A store that holds the ledger writes the exchange's ledger row in the same transaction
   * as its record (see `RecordStore.writeBatch`). Not written into the record tables.
   */
  billing?: ExchangeBilling | null;
  /** True when the upstream produced an answer (complete or partial): the exchange is billable. */
  billable?: boolean;
}

/**
 * How the usage ledger books an exchange, set by the server's admission
 * and carried through the recorder (never written into the record tables).
 */
export interface ExchangeBilling {
  /** The ledger row's idempotency key: the request id, or the client's `Idempotency-Key` scoped to the tenant. */
  ledgerKey: string;
  /** True when `ledgerKey` comes from the client's `Idempotency-Key` (a second exchange with it is a retry, not booked again); false for a request id (a client that reuses its `x-request-id` is still booked, under `<request id>/<exchange id>`). */
  fromIdempotencyKey: boolean;
  /** The `x-llm-relay-operation` of the request (default `query`). */
  operation: "query" | "batch" | "internal";
  /** The rate limiter's reservation to correct with the real token count, or null when the key has no limits. */
  reservationId: string | null;
}

/** Who an exchange was made for and how the ledger books it: what the server's admission attaches to an exchange. */
export interface ExchangeAccount {
  /** The tenant (`default` without API keys). */
  tenantId: string;
  /** The API key's id, or null without one. */
  keyId: string | null;
  /** How the usage ledger books it; null: not booked. */
  billing: ExchangeBilling | null;
}

/** One upstream attempt of an exchange (`llm_relay_attempts`). */
export interface AttemptRecord {
  /** The model name tried (the requested one, or a fallback). */
  model: string;
  /** Deployment name (config key, with `#n` for the n-th of several). */
  deployment: string;
  provider: string;
  upstreamModel: string;
  /** `ok`, or what went wrong: `error` (HTTP or protocol), `timeout`, `unreachable`, `cancelled`. */
  status: string;
  /** The upstream's HTTP status, or null when none was received. */
  httpStatus: number | null;
  /** Start, in ms after the exchange began. */
  startedMs: number;
  /** Duration of the attempt, in ms. */
  durationMs: number;
  /** Error text, or null. */
  error: string | null;
}

/**
 * What the upstream sent, kept raw on the request path (no JSON parsing
 * per chunk) and assembled by the recorder off the request path.
 */
export type RawOutput =
  /** A non-streaming answer: the body as the upstream sent it, or the object a provider built. */
  | { kind: "completion"; body: string | ChatCompletion; usageEstimated?: boolean }
  /** A streamed answer: each SSE `data:` payload (or chunk object) in order, `[DONE]` excluded. */
  | { kind: "stream"; events: readonly (string | ChatCompletionChunk)[]; usageEstimated?: boolean }
  /** A streamed answer passed through as SSE text: blocks of complete events as the upstream sent them, `[DONE]` excluded. */
  | { kind: "sse"; blocks: readonly string[] }
  /**
   * An answer from an upstream that spoke the client's protocol natively
   * (`ChatProvider.native`): the body (`stream` false) or the SSE blocks as
   * the upstream sent them, in that protocol; the recorder decodes it to a chat completion.
   */
  | { kind: "native"; protocol: NativeProtocol; stream: boolean; body: string; blocks: readonly string[] };

/** Fields of a record that the recorder derives from {@link RawOutput}. */
type AssembledFields =
  "responseText" | "toolCalls" | "reasoning" | "finishReason" | "usage" | "responseJson" | "resolvedModel" | "options";

/**
 * An exchange as the server hands it to the recorder: everything known on
 * the request path, with the answer still raw. `requestBody` is the body as
 * the client sent it; secrets are removed from it, and the sampling options
 * derived, when the recorder assembles the record.
 */
export interface PendingExchange extends Omit<ExchangeRecord, AssembledFields> {
  /** The answer, or null when the exchange failed before any output. */
  output: RawOutput | null;
  /** The OpenAI error body the client got (or the in-band error event), or null. */
  errorJson: Record<string, unknown> | null;
  /** Class of the failure, for metrics; null when ok. */
  errorClass: ErrorClass | null;
  /** How the usage ledger books it; absent or null: not booked (e.g. the library's in-process calls). */
  billing?: ExchangeBilling | null;
  /**
   * For an exchange refused for its prompt's size with no output: the prompt's tokens as the backend's tokenizer
   * counted them (`RelayError.promptTokens`), recorded as `input_tokens` (not estimated) instead of the recorder's estimate.
   */
  refusedPromptTokens?: number | null;
}

/**
 * One `POST /v1/embeddings` exchange (`llm_relay_embeddings`; never llm's
 * `responses`). The input texts are not kept, only their count and tokens.
 * This object is also what a usage ledger books (`token_type: embedding`):
 * `tenantId` and `keyId` come from the request's admission (`default` and null without API keys).
 */
export interface EmbeddingExchange {
  /** Lowercase ULID; its time part is `startedAt`. */
  id: string;
  /** The `x-request-id` of the HTTP exchange. */
  requestId: string;
  /** Request start, ms since the epoch. */
  startedAt: number;
  /** Request start, µs since the epoch (integer, in the ms of `startedAt`): what `datetime_utc` shows. Absent: `startedAt` with 0 µs. */
  startedAtUs?: number;
  /** From request received to response sent, in ms. */
  durationMs: number;
  /** The model name the client asked for. */
  requestedModel: string;
  /** Provider kind that served it, or null when none was reached (unknown model). */
  provider: string | null;
  /** Deployment name (config key, `#n` for the n-th of several), or null. */
  deployment: string | null;
  /** The model name sent upstream, or null. */
  upstreamModel: string | null;
  /** Number of inputs (vectors asked for); null when the body was not valid. */
  inputCount: number | null;
  /** Input tokens: the upstream's count, else counted by the proxy (see `usageEstimated`); null when unknown (failed before an answer). */
  inputTokens: number | null;
  /** True when `inputTokens` was counted by gpt-tokenizer, not reported by the upstream. */
  usageEstimated: boolean;
  /** Length of the vectors returned, or null. */
  dimensions: number | null;
  /** HTTP status the client saw. */
  httpStatus: number;
  /** `ok`, `error` or `cancelled`. */
  status: Exclude<ExchangeStatus, "truncated">;
  /** Error text, or null. */
  error: string | null;
  /** Cost in USD from the catalog's prices (0 for local providers), null when the model has no price or nothing was reached. */
  costUsd: number | null;
  /** The tenant the request was made for (`default` without API keys); null when not made through the server's admission. */
  tenantId: string | null;
  /** The API key's id; null without API keys. */
  keyId: string | null;
  /** How the usage ledger books it (`token_type: embedding`); absent or null: not booked. Not written into `llm_relay_embeddings`. */
  billing?: ExchangeBilling | null;
}

/** One row of `llm-relay logs`: a `responses` row, or an embedding exchange (`llm_relay_embeddings`). */
export interface LogRow {
  /** `response` (llm's `responses`, with our `llm_relay_exchanges` row when the proxy wrote it) or `embedding`. */
  kind: "response" | "embedding";
  id: string;
  datetimeUtc: string;
  model: string;
  resolvedModel: string | null;
  conversationId: string | null;
  prompt: string | null;
  response: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  durationMs: number | null;
  /** From our own table; null for rows the proxy did not write (e.g. history rows). */
  status: string | null;
  provider: string | null;
  httpStatus: number | null;
  ttftMs: number | null;
  estimated: boolean | null;
  /** Cost in USD from the catalog (from estimated tokens when `estimated`); null when unknown or not recorded by the proxy. */
  costUsd: number | null;
  error: string | null;
  requestId: string | null;
  /** The inbound protocol (`chat` for exchange rows written before the column existed); null for history rows and embeddings. */
  protocol: string | null;
  /** The tenant the exchange was made for; null when not recorded (history rows, older rows, a plain llm file). */
  tenantId: string | null;
  /** Embeddings only: the number of inputs; null otherwise. */
  inputCount: number | null;
  /** Embeddings only: the length of the vectors returned; null otherwise or when none came back. */
  dimensions: number | null;
}

/**
 * Filter for `listResponses` (`llm-relay logs`); every field is optional and they combine with AND.
 * Embedding exchanges are listed too, unless a filter only responses have is given
 * (`conversationId`, `search`, `protocol`, `status: "history"`).
 */
export interface LogQuery {
  /** Most recent N rows (default 10). */
  limit?: number;
  /** Only this conversation. */
  conversationId?: string;
  /** Only this model, as requested (`responses.model`) or as resolved (`resolved_model`; an embedding's `upstream_model`). */
  model?: string;
  /** Only this outcome (`llm_relay_exchanges.status`: ok, error, cancelled, truncated), or `history` for history rows. */
  status?: string;
  /** Only this HTTP status as the client saw it. */
  httpStatus?: number;
  /**
   * Full-text search in prompt and response, every word must occur: `fts5` is the query for SQLite's
   * `responses_fts` (`ftsQuery` of bench/selection.ts), `text` the words for PostgreSQL's
   * `plainto_tsquery('simple', …)` over the same text its GIN index covers.
   */
  search?: { text: string; fts5: string };
  /** Only rows at or after this time, in llm's `datetime_utc` format (`parseTimeBound` of bench/selection.ts). */
  since?: string;
  /** Only rows before this time, same format. */
  until?: string;
  /** Only exchanges made for this tenant (a recorded exchange without one belongs to `default`). */
  tenant?: string;
  /** Only exchanges in this inbound protocol (rows without one are `chat`). */
  protocol?: string;
}

/**
 * A place exchanges are written to. Implementations must be safe to call
 * from the recorder's flush loop only (one writer at a time).
 */
export interface RecordStore {
  /**
   * True when `writeBatch` also writes the usage-ledger row of each record that carries `billing`
   * and is `billable`, in the same transaction as the record (so no recorded exchange is ever
   * without its ledger row). Absent or false: the server books the ledger itself.
   */
  readonly booksUsage?: boolean;
  /**
   * Writes a batch of exchanges in one transaction, threading each into
   * its conversation. Records must have `usage` filled (the recorder
   * estimates missing counts first).
   * @throws on a database failure; the recorder logs and counts it.
   */
  writeBatch(records: readonly ExchangeRecord[]): void | Promise<void>;
  /**
   * Writes embedding exchanges (`llm_relay_embeddings`) in one transaction;
   * stores without it do not record embeddings.
   * @throws on a database failure; the recorder logs and counts it.
   */
  writeEmbeddings?(records: readonly EmbeddingExchange[]): void | Promise<void>;
  /** Checks the store accepts writes (used by `/health`). */
  isWritable(): boolean | Promise<boolean>;
  /** Recent responses, newest first. */
  listResponses(query: LogQuery): LogRow[] | Promise<LogRow[]>;
  /**
   * One recorded exchange by its id (`responses.id`), as an inbound adapter reads it back (OpenAI
   * Responses' `previous_response_id`, `GET /v1/responses/{id}`): null when no exchange has that id,
   * or when it was made for another tenant than `tenantId` (`llm_relay_exchanges.tenant_id`; a record
   * without one belongs to `default`).
   */
  findExchange(id: string, tenantId: string): RecordedExchangeLookup | null | Promise<RecordedExchangeLookup | null>;
  /** Releases the connection. */
  close(): void | Promise<void>;
}
