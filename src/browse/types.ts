/**
 * The conversation browser's read model (issue 21): what the web UI at `/ui` asks the record store,
 * and the shapes it gets back. One interface, {@link BrowseStore}, with a SQLite and a PostgreSQL
 * implementation (`browse/sqlite-browse.ts`, `browse/postgres-browse.ts`) over the same tables the
 * recorder writes (llm's `responses`, our `llm_relay_exchanges`, `llm_relay_attempts`, the per-conversation
 * summary `llm_relay_conversation_stats` and the daily usage roll-up `llm_relay_usage_daily`).
 *
 * Every list is **keyset-paginated** (`cursor`: an opaque string from the previous page's
 * `nextCursor`; no `OFFSET`), every filter has an index, and counts are **bounded**
 * (`count.exact` false means "at least `count.value`"), so a page costs the same on the first and the
 * millionth row. These types are the JSON bodies of `/ui/api/*` as well (inside the internal
 * endpoints' envelope `{success, message, data, metadata, error}`): the browser bundle (`ui/`) imports
 * them as types only.
 *
 * Times are llm's `datetime_utc` text (`2026-12-05T21:13:23.123456`, UTC, sorts as time); ids are
 * lowercase ULIDs (sort as time); durations in ms; tokens as counted by the upstream (or estimated);
 * money in USD (`null`: unpriced).
 */

/** How an exchange ended (`llm_relay_exchanges.status`); `history` = a row of a conversation first seen mid-way (no exchange row). */
export type BrowseStatus = "ok" | "error" | "cancelled" | "truncated" | "history";

/**
 * The filters of the Conversations and Exchanges pages. Absent = any. A conversation matches a
 * filter on `model`, `status`, `provider`, `protocol`, `tenant`, `keyId` by its **last** exchange
 * (what the list shows); `search` and the time range by any of its turns' text / its last activity.
 */
export interface BrowseFilter {
  /** Full-text search over prompts and answers (llm's `responses_fts` on SQLite, the GIN `to_tsvector` index on PostgreSQL); plain words, all must occur. */
  search?: string;
  /** The model the client asked for (`responses.model`; a conversation: its last exchange's), served by the index `responses (model, id)`. */
  model?: string;
  status?: BrowseStatus;
  /** Provider kind (`echo`, `openai-compatible`, …). */
  provider?: string;
  /** Inbound protocol (`chat`, `messages`, `responses`, `ollama`, `gemini`, `completions`). */
  protocol?: string;
  /** Tenant id (`default` without API keys). */
  tenant?: string;
  /** API key id (`key_<ulid>`). */
  keyId?: string;
  /** Inclusive lower bound on `datetime_utc` (ISO 8601 date or date-time, UTC). */
  since?: string;
  /** Exclusive upper bound on `datetime_utc`. */
  until?: string;
}

/** One page's request. */
export interface PageRequest {
  /** Rows per page, 1–200 (default 50). */
  limit?: number;
  /** The previous page's `nextCursor`; absent for the first page. */
  cursor?: string | null;
}

/** A bounded count: `exact` false means "at least `value`" (the count stopped at its cap: 10,000 by default, 1,000 for a search). */
export interface BoundedCount {
  value: number;
  exact: boolean;
}

/** One page of a list. */
export interface Page<T> {
  items: T[];
  /** The cursor of the next page, or null on the last one. */
  nextCursor: string | null;
  /** How many rows match the filter, bounded (not computed for a cursor page: null). */
  count: BoundedCount | null;
}

/** One row of the Conversations page (`llm_relay_conversation_stats` ⟕ `conversations`). */
export interface ConversationSummary {
  id: string;
  /** llm's `conversations.name` (the start of the first prompt). */
  name: string | null;
  /** The model of the last exchange, as asked. */
  model: string | null;
  protocol: string | null;
  /** The client's `User-Agent` on the last exchange (`llm_relay_exchanges.client`), or null. */
  client: string | null;
  provider: string | null;
  tenantId: string | null;
  keyId: string | null;
  /** Number of turns (`responses` rows, history rows included). */
  turns: number;
  inputTokens: number;
  outputTokens: number;
  /** Sum over its exchanges, USD; null when none was priced. */
  costUsd: number | null;
  /** Status of the last exchange. */
  lastStatus: BrowseStatus;
  firstUtc: string;
  lastUtc: string;
  /** The id of its newest `responses` row (the keyset order of the list). */
  lastResponseId: string;
}

/** A part of a message, as the page renders it. */
export type UiPart =
  | { type: "text"; text: string }
  | { type: "reasoning"; text: string }
  | {
      type: "tool_call";
      id: string | null;
      name: string;
      /** The JSON arguments as the model wrote them. */ arguments: string;
    }
  | { type: "tool_result"; toolCallId: string | null; name: string | null; content: string }
  /** An image of the request. `url` is a `data:` URL (shown) or a remote URL (shown as a link, never loaded: the page fetches nothing outside the proxy). */
  | { type: "image"; url: string };

/** A chat message, in the page's neutral form (from any protocol's record). */
export interface UiMessage {
  role: "system" | "developer" | "user" | "assistant" | "tool";
  parts: UiPart[];
}

/** One exchange's metadata: a row of the Exchanges page and the header of a turn. */
export interface ExchangeSummary {
  /** `responses.id`. */
  id: string;
  conversationId: string | null;
  datetimeUtc: string;
  /** The model asked (`responses.model`). */
  model: string;
  /** The model that answered (`responses.resolved_model`), or null. */
  resolvedModel: string | null;
  provider: string | null;
  deployment: string | null;
  protocol: string | null;
  client: string | null;
  status: BrowseStatus;
  httpStatus: number | null;
  /** The error message (from `llm_relay_exchanges.error`), or null. */
  error: string | null;
  finishReason: string | null;
  stream: boolean | null;
  inputTokens: number | null;
  outputTokens: number | null;
  /** Cached prompt tokens (from `token_details`: OpenAI's `prompt_tokens_details.cached_tokens`, Anthropic's `cache_read_input_tokens`), or null. */
  cachedTokens: number | null;
  /** Reasoning tokens (`completion_tokens_details.reasoning_tokens`), or null. */
  reasoningTokens: number | null;
  usageEstimated: boolean | null;
  costUsd: number | null;
  /** ms. */
  durationMs: number | null;
  ttftMs: number | null;
  overheadMs: number | null;
  /** Number of upstream attempts. */
  attempts: number | null;
  tenantId: string | null;
  keyId: string | null;
  /** The start of the prompt's text (≤ 200 characters), for the table. */
  promptPreview: string | null;
}

/** One turn of a conversation, rendered as chat. */
export interface TurnView {
  exchange: ExchangeSummary;
  /** The messages this turn added: the request's messages after the history the previous turn ended with (the first turn: all of them, system included). */
  input: UiMessage[];
  /** The answer (text, reasoning before it, tool calls), or null for a failed exchange with no output. */
  output: UiMessage | null;
}

/** The Conversation page: its summary and one page of its turns. */
export interface ConversationDetail {
  summary: ConversationSummary;
  /** Turns, oldest first: the first page from the first turn, a cursor's page from the turn after the cursor's. */
  turns: TurnView[];
  /** The cursor of the turns after these (`?cursor=`), or null when these reach the newest turn. */
  nextCursor: string | null;
}

/** One upstream attempt (`llm_relay_attempts`). */
export interface AttemptView {
  attempt: number;
  model: string | null;
  deployment: string | null;
  provider: string | null;
  upstreamModel: string | null;
  status: "ok" | "error" | "timeout" | "unreachable" | "cancelled";
  httpStatus: number | null;
  /** ms after the exchange started. */
  startedMs: number;
  durationMs: number;
  error: string | null;
}

/** The Exchange detail view. */
export interface ExchangeDetail {
  turn: TurnView;
  attempts: AttemptView[];
  /** `responses.prompt_json`, parsed (the request as recorded). */
  requestJson: unknown;
  /** `responses.response_json`, parsed (the answer or the error as recorded). */
  responseJson: unknown;
}

/** Sort order of the Exchanges page. */
export type ExchangeOrder = "newest" | "errors-first";

/** The grouping of the Usage page. */
export type UsageGroup = "model" | "tenant" | "key";

/** One day × group of the Usage page (`llm_relay_usage_daily`, rolled up from the usage ledger). */
export interface UsageRow {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  /** The model, tenant id or key id (null: no key). */
  group: string | null;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** The Usage page's data: `rows` ordered by day, then group. */
export interface UsageReport {
  since: string;
  until: string;
  by: UsageGroup;
  rows: UsageRow[];
}

/** The distinct values each filter offers (for the filter menus), each list bounded at 500. */
export interface Facets {
  models: string[];
  providers: string[];
  protocols: string[];
  tenants: string[];
  keyIds: string[];
}

/**
 * The queries of the browser over one record store. Every method answers from indexes (no scan that
 * grows with the store past one page, one conversation or the asked time range of the roll-up).
 * Implementations are read-only: they never write the records.
 */
export interface BrowseStore {
  /** Conversations, newest last activity first. @throws Error on a malformed cursor (the server answers 400) */
  conversations(filter: BrowseFilter, page: PageRequest): Promise<Page<ConversationSummary>>;
  /**
   * One conversation with a page of its turns (`page.limit` turns, 1–200, default 50, oldest first; a long
   * conversation costs one page of request bodies, not all of them), or null when there is no such conversation.
   * @throws Error on a malformed cursor (the server answers 400)
   */
  conversation(id: string, page?: PageRequest): Promise<ConversationDetail | null>;
  /** Exchanges (`responses` rows with their `llm_relay_exchanges` row), newest first or errors first. @throws Error on a malformed cursor */
  exchanges(filter: BrowseFilter, order: ExchangeOrder, page: PageRequest): Promise<Page<ExchangeSummary>>;
  /** One exchange with its attempts and raw JSON, or null. */
  exchange(id: string): Promise<ExchangeDetail | null>;
  /** Tokens and cost per UTC day and group, over `[since, until)` (dates `YYYY-MM-DD`). */
  usage(by: UsageGroup, since: string, until: string): Promise<UsageReport>;
  /** The values of the filter menus. */
  facets(): Promise<Facets>;
  /** Releases the connection(s) it opened itself. */
  close(): Promise<void>;
}
