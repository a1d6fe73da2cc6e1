/**
 * The one builder of a record's rows: the rows one exchange adds to llm's
 * tables and ours (docs/llm-logs-db.md, "Threading an incoming request"),
 * computed without touching a database once the store has said which
 * thread the exchange joins, what the conversation's legacy rows already
 * hold and which message hashes are stored. Both stores consume it
 * (SqliteStore.writeOne, PgStore.writeOne) and only run their own SQL,
 * generated from the column lists below with named parameters; the
 * store-contract test checks both stores produce the same rows.
 *
 * Adding a column: the schema(s) (sqlite/schema.ts or relay-schema.ts,
 * postgres/pg-schema.ts), then here its row interface field, its entry in
 * the table's column list and its value; the stores' SQL follows.
 */
import { conversationName, llmDatetime, startMs, threadDatetime } from "./llm-format.js";
import { partColumns, replyToLlmMessage, withoutReasoning, type LlmMessage } from "./llm-message.js";
import type { CachedHash } from "./message-hash.js";
import { exchangeToolRows, requestTools, type ExchangeToolRows, type ToolRowSource } from "./llm-tools.js";
import {
  historyToolSources,
  historyTurnRows,
  recordReasoning,
  tokenDetailsJson,
  turnSearchRow,
  type TurnRow,
  type TurnSearchRow,
} from "./llm-rows.js";

export type { TurnRow, TurnSearchRow } from "./llm-rows.js";
import { llmOptionsJson } from "./llm-options.js";
import { newUlid } from "./ulid.js";
import type { ExchangeRecord } from "./types.js";
import type { ChainHasher } from "./hash-chains.js";
import { historyPairs, idsBefore, type AnalyzedInput } from "./threading.js";

/**
 * The columns of a row type, in insert order: the keys of `columns` (its
 * `Record` type makes the list exhaustive and exact at compile time, so a
 * row field without a column, or a column without a field, does not build).
 */
function columnList<T>(columns: Record<keyof T, true>): readonly (keyof T & string)[] {
  return Object.keys(columns) as (keyof T & string)[];
}

/** A `parts` row (without its generated `id`). */
export interface PartRow {
  message_hash: string;
  position: number;
  type: string;
  tool_name: string | null;
  text: string | null;
  payload: string | null;
}

/** A `messages` row's columns (`provider_metadata` stays NULL). */
export interface MessageColumns {
  hash: string;
  parent_hash: string | null;
  role: string;
}

/** A `messages` row with its parts, written only when the hash is not stored yet. */
export interface MessageRow extends MessageColumns {
  parts: PartRow[];
}

/** A new `threads` row (`forked_from` stays NULL). */
export interface ThreadRow {
  id: string;
  name: string;
  /** The history tip the thread starts at (the turn's write moves it), or null. */
  tip_message_hash: string | null;
  datetime_utc: string;
}

/** A `conversations` row (id = the thread's id), inserted unless present. */
export interface ConversationRow {
  id: string;
  name: string;
  model: string;
}

/** A `responses` row (the columns llm-relay fills; the others are NULL). */
export interface ResponseRow {
  id: string;
  model: string;
  prompt: string | null;
  system: string | null;
  prompt_json: string;
  options_json: string;
  response: string;
  response_json: string | null;
  conversation_id: string;
  duration_ms: number;
  datetime_utc: string;
  input_tokens: number | null;
  output_tokens: number | null;
  /** `json.dumps(usage details)`, or null. */
  token_details: string | null;
  resolved_model: string | null;
  /** The reply's reasoning text, or null. */
  reasoning: string | null;
}

/** An `llm_relay_exchanges` row (`usage_estimated`, `stream`: 0/1). */
export interface ExchangeRow {
  response_id: string;
  request_id: string;
  provider: string | null;
  deployment: string | null;
  upstream_model: string | null;
  http_status: number;
  status: string;
  error: string | null;
  ttft_ms: number | null;
  usage_estimated: number | null;
  stream: number;
  finish_reason: string | null;
  datetime_utc: string;
  overhead_ms: number | null;
  cost_usd: number | null;
  attempts: number | null;
  tenant_id: string | null;
  key_id: string | null;
  /** The inbound protocol: `chat`, `messages` (Anthropic), `responses` (OpenAI Responses). */
  protocol: string;
  /** The tool convention the raw-completion prompt offered tools with (`hermes`, …), or null. */
  tool_convention: string | null;
  /** The client's `User-Agent` (≤ 256 characters), or null when it sent none. */
  client: string | null;
}

/** An `llm_relay_attempts` row (`attempt` counts from 1). */
export interface AttemptRow {
  response_id: string;
  attempt: number;
  model: string;
  deployment: string;
  provider: string;
  upstream_model: string;
  status: string;
  http_status: number | null;
  started_ms: number;
  duration_ms: number;
  error: string | null;
}

/** Columns of `messages` (see {@link columnList}). */
export const MESSAGE_COLUMNS = columnList<MessageColumns>({ hash: true, parent_hash: true, role: true });
/** Columns of `parts`. */
export const PART_COLUMNS = columnList<PartRow>({
  message_hash: true,
  position: true,
  type: true,
  tool_name: true,
  text: true,
  payload: true,
});
/** Columns of `threads`. */
export const THREAD_COLUMNS = columnList<ThreadRow>({
  id: true,
  name: true,
  tip_message_hash: true,
  datetime_utc: true,
});
/** Columns of `conversations`. */
export const CONVERSATION_COLUMNS = columnList<ConversationRow>({ id: true, name: true, model: true });
/** Columns of `turns` (`schema_id` stays NULL). */
export const TURN_COLUMNS = columnList<TurnRow>({
  id: true,
  thread_id: true,
  parent_message_hash: true,
  tip_message_hash: true,
  model: true,
  resolved_model: true,
  options_json: true,
  input_tokens: true,
  output_tokens: true,
  token_details: true,
  duration_ms: true,
  datetime_utc: true,
  response_json: true,
});
/** Columns of `turn_search`. */
export const TURN_SEARCH_COLUMNS = columnList<TurnSearchRow>({ turn_id: true, prompt: true, response: true });
/** Columns of `responses` (`schema_id` and llm's other columns stay NULL). */
export const RESPONSE_COLUMNS = columnList<ResponseRow>({
  id: true,
  model: true,
  prompt: true,
  system: true,
  prompt_json: true,
  options_json: true,
  response: true,
  response_json: true,
  conversation_id: true,
  duration_ms: true,
  datetime_utc: true,
  input_tokens: true,
  output_tokens: true,
  token_details: true,
  resolved_model: true,
  reasoning: true,
});
/** Columns of `llm_relay_exchanges`. */
export const EXCHANGE_COLUMNS = columnList<ExchangeRow>({
  response_id: true,
  request_id: true,
  provider: true,
  deployment: true,
  upstream_model: true,
  http_status: true,
  status: true,
  error: true,
  ttft_ms: true,
  usage_estimated: true,
  stream: true,
  finish_reason: true,
  datetime_utc: true,
  overhead_ms: true,
  cost_usd: true,
  attempts: true,
  tenant_id: true,
  key_id: true,
  protocol: true,
  tool_convention: true,
  client: true,
});
/** Columns of `llm_relay_attempts`. */
export const ATTEMPT_COLUMNS = columnList<AttemptRow>({
  response_id: true,
  attempt: true,
  model: true,
  deployment: true,
  provider: true,
  upstream_model: true,
  status: true,
  http_status: true,
  started_ms: true,
  duration_ms: true,
  error: true,
});
/** Columns of `llm_relay_reply_aliases`. */
export const REPLY_ALIAS_COLUMNS = columnList<ReplyAliasRow>({ bare_hash: true, hash: true });

/** Which thread an exchange joins, as the store found it. */
export interface ThreadJoin {
  /** The thread (= conversation) id. */
  threadId: string;
  /** Whether the thread's whole chain up to the history tip is known stored (its tip is the history tip): those messages need no write. */
  historyStored: boolean;
  /** Whether the thread's tip moves to this exchange's turn (false when a later turn of the thread was recorded first). */
  moveTip: boolean;
}

/** What a joined conversation's legacy rows hold so far. */
export interface LegacyState {
  /** Whether the conversation has any `responses` row. */
  hasRows: boolean;
  /** The newest non-null `system` among its rows (by id), or null. */
  lastSystem: string | null;
  /**
   * True when the store knows the conversation's `conversations` row exists (it wrote the
   * conversation's newest row): the builder then leaves {@link ExchangeRows.conversation} null
   * and skips deriving its name (a pass over the first message's text). Default false.
   */
  conversationStored?: boolean;
}

/** An `llm_relay_reply_aliases` row. */
export interface ReplyAliasRow {
  /** The hash of the reply without its reasoning parts, after the same parent. */
  bare_hash: string;
  /** The stored reply's hash. */
  hash: string;
}

/** Every row one exchange adds. */
export interface ExchangeRows {
  /** Messages of the input chain and the reply, in chain order, to insert unless present (content-addressed). */
  messages: MessageRow[];
  /** The new thread, or null when the exchange joins one. */
  thread: ThreadRow | null;
  /** The thread's (= conversation's) id, joined or new. */
  threadId: string;
  /** The conversation row to insert unless present; null when the store said it is ({@link LegacyState.conversationStored}). */
  conversation: ConversationRow | null;
  /** The turn, or null (an error with no output writes none). */
  turn: TurnRow | null;
  /** The turn's search row, or null when its prompt and response are both empty (or there is no turn). */
  turnSearch: TurnSearchRow | null;
  /**
   * One turn per history row of a new conversation (same id as its `responses` row), so
   * llm 0.32 shows the history from the message store, the system prompt once (see
   * {@link historyTurnRows}); empty for a joined one.
   */
  historyTurns: TurnRow[];
  /** The history turns' search rows (those with text). */
  historyTurnSearch: TurnSearchRow[];
  /** The tool rows of the exchange (tools, tool_responses, turn_tools, tool_calls, tool_results). */
  tools: ExchangeToolRows;
  /** When the reply has reasoning: the hash of the reply as the client re-sends it (without reasoning) → the stored reply's hash. */
  replyAlias: ReplyAliasRow | null;
  /** The stored reply's hash-cache entry when {@link replyAlias} is set (what the store remembers the alias as, once committed). */
  replyAliasEntry: CachedHash | null;
  /** The thread's new tip, or null to leave it. */
  threadTip: string | null;
  /** History rows (new conversations only), then the live row. */
  responses: ResponseRow[];
  /** The conversation's newest non-null `system` once {@link responses} are written (what a store may cache as its legacy state). */
  lastSystem: string | null;
  exchange: ExchangeRow;
  attempts: AttemptRow[];
  /** Hash-cache entries of messages this exchange writes: mark them `stored` once the transaction commits. */
  newlyStored: CachedHash[];
}

function messageRow(message: LlmMessage, hash: string, parent: string | null): MessageRow {
  return {
    hash,
    parent_hash: parent,
    role: message.role,
    parts: message.parts.map((part, position) => {
      const c = partColumns(part);
      return { message_hash: hash, position, type: part.type, tool_name: c.toolName, text: c.text, payload: c.payload };
    }),
  };
}

/**
 * The rows of one exchange, as plain objects keyed by column name (the
 * `*_COLUMNS` lists above give each table's insert order).
 * @param r the assembled record (`usage` filled)
 * @param input `analyzeInput(r.messages, hasher)`
 * @param hasher the store's hash cache (the reply is looked up and the chain remembered in it)
 * @param join the thread the store found for the exchange, or null for a new conversation
 * @param legacy the joined conversation's legacy state (ignored for a new one)
 */
export function exchangeRows(
  r: ExchangeRecord,
  input: AnalyzedInput,
  hasher: ChainHasher,
  join: ThreadJoin | null,
  legacy: LegacyState,
): ExchangeRows {
  const newlyStored: CachedHash[] = [];
  const messages: MessageRow[] = [];
  let parent: string | null = null;
  input.messages.forEach((message, i) => {
    const hash = input.hashes[i]!;
    const skip = input.cached[i]?.stored === true || (join?.historyStored === true && i < input.boundary);
    if (!skip) messages.push(messageRow(message, hash, parent));
    parent = hash;
  });
  for (const entry of input.cached) if (!entry.stored) newlyStored.push(entry);

  const threadId = join?.threadId ?? newUlid(r.startedAt);
  const started = llmDatetime(startMs(r));
  const optionsJson = llmOptionsJson(r.options, "responses");
  const turnOptionsJson = llmOptionsJson(r.options, "turns");
  const responseJson = r.responseJson ? JSON.stringify(r.responseJson) : null;
  const needsName = join === null || legacy.conversationStored !== true;
  const name = needsName ? conversationName(input.nameSource) : "";

  const reply = replyToLlmMessage(r.responseText, r.toolCalls, r.reasoning);
  const writeTurn = r.status !== "error" || reply !== null;
  const tokenDetails = tokenDetailsJson(r);
  let turn: TurnRow | null = null;
  let turnSearch: ExchangeRows["turnSearch"] = null;
  let threadTip: string | null = null;
  let replyAlias: ReplyAliasRow | null = null;
  let replyAliasEntry: CachedHash | null = null;
  if (writeTurn) {
    let tip = input.lastInputHash;
    if (reply) {
      const hit = hasher.messages.lookup(reply, input.lastInputHash);
      if (!hit.stored) {
        messages.push(messageRow(reply, hit.hash, input.lastInputHash));
        newlyStored.push(hit);
      }
      hasher.remember([...input.messages, reply], [...input.cached, hit]);
      tip = hit.hash;
      const bare = withoutReasoning(reply);
      if (bare !== reply) {
        replyAlias = { bare_hash: hasher.messages.lookup(bare, input.lastInputHash).hash, hash: hit.hash };
        replyAliasEntry = hit;
      }
    }
    turn = {
      id: r.id,
      thread_id: threadId,
      parent_message_hash: input.lastInputHash,
      tip_message_hash: tip,
      model: r.requestedModel,
      resolved_model: r.resolvedModel,
      options_json: turnOptionsJson === "{}" ? null : turnOptionsJson,
      input_tokens: r.usage?.input ?? null,
      output_tokens: r.usage?.output ?? null,
      token_details: tokenDetails,
      duration_ms: r.durationMs,
      datetime_utc: started,
      response_json: responseJson,
    };
    turnSearch = turnSearchRow(r.id, input.messages[input.messages.length - 1], reply);
    if (join === null || join.moveTip) threadTip = tip;
  }

  // Legacy rows: the history of a new conversation, then the live row.
  let { hasRows, lastSystem } = join ? legacy : { hasRows: false, lastSystem: null };
  const systemFor = (): string | null => {
    const sys = input.systemText;
    const write = sys !== null && (!hasRows || sys !== lastSystem) ? sys : null;
    if (write !== null) lastSystem = write;
    hasRows = true;
    return write;
  };
  const responses: ResponseRow[] = [];
  const toolSources: ToolRowSource[] = [];
  let historyTurns: TurnRow[] = [];
  let historyTurnSearch: TurnSearchRow[] = [];
  if (!join) {
    const pairs = historyPairs(r.messages, input.boundary);
    const ids = idsBefore(r.id, r.startedAt, pairs.length);
    pairs.forEach((pair, i) => {
      responses.push({
        id: ids[i]!,
        model: r.requestedModel,
        prompt: pair.prompt,
        system: systemFor(),
        prompt_json: JSON.stringify(pair.promptJson),
        options_json: "{}",
        response: pair.response,
        response_json: null,
        conversation_id: threadId,
        duration_ms: 0,
        datetime_utc: started,
        input_tokens: 0,
        output_tokens: 0,
        token_details: null,
        resolved_model: null,
        reasoning: null,
      });
    });
    const history = historyTurnRows(pairs, ids, input, threadId, r.requestedModel, started);
    historyTurns = history.turns;
    historyTurnSearch = history.search;
    toolSources.push(...historyToolSources(pairs, ids, input.messages));
  }
  responses.push({
    id: r.id,
    model: r.requestedModel,
    prompt: input.prompt,
    system: systemFor(),
    prompt_json: JSON.stringify(r.receivedBody ?? r.requestBody),
    options_json: optionsJson,
    response: r.responseText,
    response_json: responseJson,
    conversation_id: threadId,
    duration_ms: r.durationMs,
    datetime_utc: started,
    input_tokens: r.usage?.input ?? null,
    output_tokens: r.usage?.output ?? null,
    token_details: tokenDetails,
    resolved_model: r.resolvedModel,
    reasoning: recordReasoning(r),
  });
  toolSources.push({ responseId: r.id, hasTurn: turn !== null, reply, inputs: input.messages.slice(input.boundary) });
  const tools = exchangeToolRows(requestTools(r.requestBody), toolSources);

  return {
    messages,
    thread: join
      ? null
      : { id: threadId, name, tip_message_hash: input.historyTipHash, datetime_utc: threadDatetime(startMs(r)) },
    threadId,
    conversation: needsName ? { id: threadId, name, model: r.requestedModel } : null,
    turn,
    turnSearch,
    historyTurns,
    historyTurnSearch,
    tools,
    replyAlias,
    replyAliasEntry,
    threadTip,
    responses,
    lastSystem,
    exchange: {
      response_id: r.id,
      request_id: r.requestId,
      provider: r.provider,
      deployment: r.deployment,
      upstream_model: r.upstreamModel,
      http_status: r.httpStatus,
      status: r.status,
      error: r.error,
      ttft_ms: r.ttftMs,
      usage_estimated: r.usage ? (r.usage.estimated ? 1 : 0) : null,
      stream: r.stream ? 1 : 0,
      finish_reason: r.finishReason,
      datetime_utc: started,
      overhead_ms: r.overheadMs ?? null,
      cost_usd: r.costUsd ?? null,
      attempts: r.attempts?.length ?? null,
      tenant_id: r.tenantId ?? null,
      key_id: r.keyId ?? null,
      protocol: r.protocol ?? "chat",
      tool_convention: r.toolConvention ?? null,
      client: r.client ?? null,
    },
    attempts: (r.attempts ?? []).map((a, i) => ({
      response_id: r.id,
      attempt: i + 1,
      model: a.model,
      deployment: a.deployment,
      provider: a.provider,
      upstream_model: a.upstreamModel,
      status: a.status,
      http_status: a.httpStatus,
      started_ms: a.startedMs,
      duration_ms: a.durationMs,
      error: a.error,
    })),
    newlyStored,
  };
}
