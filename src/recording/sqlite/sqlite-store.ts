/**
 * The SQLite record store: writes exchanges into a logs.db that `llm`
 * (0.32 and ≤ 0.31) reads as its own, in the format described in
 * docs/llm-logs-db.md — legacy `conversations`/`responses` rows, the
 * 0.32 message store (`messages`, `parts`, `threads`, `turns`,
 * `turn_search`), and our `llm_relay_exchanges` row per exchange.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Database as Db, Statement } from "better-sqlite3";
import type { EmbeddingExchange, ExchangeRecord, LogQuery, LogRow, RecordStore } from "../types.js";
import { EMBEDDING_COLUMNS, SQLITE_INSERT_EMBEDDING, embeddingRow } from "../embedding-rows.js";
import { conversationName, llmDatetime, startMs, threadDatetime } from "../llm-format.js";
import { partColumns, replyToLlmMessage, withoutReasoning, type LlmMessage } from "../llm-message.js";
import type { CachedHash } from "../message-hash.js";
import { exchangeToolRows, requestTools, type ExchangeToolRows, type ToolRowSource } from "../llm-tools.js";
import { historyToolSources, historyTurnRows, recordReasoning, tokenDetailsJson, turnSearchRow } from "../llm-rows.js";
import { llmOptionsJson } from "../llm-options.js";
import { newUlid } from "../ulid.js";
import { queryResponses } from "./log-query.js";
import { configureWriter, IdleCheckpointer } from "./connection.js";
import { ensureSchema } from "./schema.js";
import { ChainHasher, ReplyAliases, type ReplyAliasResolver } from "./hash-chains.js";
import { analyzeInput, historyPairs, idsBefore } from "./threading.js";
import { DeferredInserts } from "./deferred-inserts.js";
import { ensureTenancySchema } from "../../tenancy/sqlite/schema.js";
import { SqliteLedgerWriter } from "../../tenancy/sqlite/ledger-writer.js";
import { exchangeUsageEvent, rebookingKey } from "../../tenancy/exchange-usage.js";
import { usageRowOf } from "../../tenancy/usage-event.js";

/** ms a writer waits for another connection's lock before failing. */
const BUSY_TIMEOUT_MS = 5000;
/** Conversations whose legacy state (last row, last system prompt) is kept in memory. */
const MAX_CACHED_CONVERSATIONS = 10_000;

/** What the legacy rows of a conversation need to know of its past, as of its last row written here. */
interface ConversationState {
  /** id of the conversation's newest `responses` row: the state is valid while it is still the newest. */
  responseId: string;
  /** The `system` the conversation's rows last set, or null. */
  lastSystem: string | null;
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * The two tables with an FTS5 trigger, written once per batch (see
 * deferred-inserts.ts). A `responses` row is added under its conversation's
 * id, a `turn_search` row under its turn's id.
 */
function deferredInserts(db: Db) {
  return {
    responses: new DeferredInserts(
      db,
      `INSERT INTO responses (id, model, prompt, system, prompt_json, options_json, response, response_json,
         conversation_id, duration_ms, datetime_utc, input_tokens, output_tokens, token_details, schema_id,
         resolved_model, reasoning)`,
      "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
    ),
    turnSearch: new DeferredInserts(db, "INSERT INTO turn_search (turn_id, prompt, response)", "(?, ?, ?)"),
  };
}

function prepareStatements(db: Db) {
  const p = (sql: string): Statement => db.prepare(sql);
  return {
    insertMessage: p(`INSERT OR IGNORE INTO messages (hash, parent_hash, role, provider_metadata) VALUES (?, ?, ?, NULL)`),
    insertPart: p(
      `INSERT INTO parts (message_hash, position, type, tool_name, text, payload) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    // max() rather than ORDER BY … LIMIT 1: no temporary b-tree for the (usually single) match.
    threadByTip: p(`SELECT max(id) AS id FROM threads WHERE tip_message_hash = ?`),
    insertThread: p(
      `INSERT INTO threads (id, name, tip_message_hash, forked_from, datetime_utc) VALUES (?, ?, ?, NULL, ?)`,
    ),
    updateThreadTip: p(`UPDATE threads SET tip_message_hash = ? WHERE id = ?`),
    insertConversation: p(`INSERT OR IGNORE INTO conversations (id, name, model) VALUES (?, ?, ?)`),
    insertTurn: p(
      `INSERT OR REPLACE INTO turns (id, thread_id, parent_message_hash, tip_message_hash, model, resolved_model,
         options_json, schema_id, input_tokens, output_tokens, token_details, duration_ms, datetime_utc, response_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)`,
    ),
    insertTool: p(
      `INSERT INTO tools (hash, name, description, input_schema, plugin) VALUES (?, ?, ?, ?, NULL) ON CONFLICT(hash) DO NOTHING`,
    ),
    toolIdByHash: p(`SELECT id FROM tools WHERE hash = ?`),
    insertToolResponse: p(`INSERT OR IGNORE INTO tool_responses (tool_id, response_id) VALUES (?, ?)`),
    insertTurnTool: p(`INSERT OR REPLACE INTO turn_tools (turn_id, tool_id, instance_id) VALUES (?, ?, NULL)`),
    insertToolCall: p(`INSERT INTO tool_calls (response_id, tool_id, name, arguments, tool_call_id) VALUES (?, ?, ?, ?, ?)`),
    insertToolResult: p(
      `INSERT INTO tool_results (response_id, tool_id, name, output, tool_call_id, instance_id, exception) VALUES (?, ?, ?, ?, ?, NULL, NULL)`,
    ),
    insertReplyAlias: p(`INSERT OR REPLACE INTO llm_relay_reply_aliases (bare_hash, hash) VALUES (?, ?)`),
    replyAlias: p(`SELECT hash FROM llm_relay_reply_aliases WHERE bare_hash = ?`),
    hasTurnSearch: p(`SELECT 1 FROM turn_search WHERE turn_id = ?`),
    deleteTurnSearch: p(`DELETE FROM turn_search WHERE turn_id = ?`),
    newestResponseId: p(`SELECT id FROM responses WHERE conversation_id = ? ORDER BY rowid DESC LIMIT 1`),
    latestSystem: p(
      `SELECT system FROM responses WHERE conversation_id = ? AND system IS NOT NULL ORDER BY id DESC LIMIT 1`,
    ),
    insertExchange: p(
      `INSERT OR REPLACE INTO llm_relay_exchanges (response_id, request_id, provider, deployment, upstream_model,
         http_status, status, error, ttft_ms, usage_estimated, stream, finish_reason, datetime_utc, overhead_ms, cost_usd, attempts,
         tenant_id, key_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertAttempt: db.prepare(
      `INSERT OR REPLACE INTO llm_relay_attempts (response_id, attempt, model, deployment, provider, upstream_model,
         status, http_status, started_ms, duration_ms, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  };
}

/**
 * A {@link RecordStore} on a SQLite file (better-sqlite3, synchronous).
 * The file is an llm logs.db: `llm logs` lists what we write. WAL mode;
 * foreign keys are left off, as llm leaves them.
 */
export class SqliteStore implements RecordStore {
  /** Each billable record's usage-ledger row is written in the record's own transaction (the tenancy tables are in this file). */
  readonly booksUsage = true;
  private readonly stmts: Statements;
  private readonly ledger: SqliteLedgerWriter;
  private readonly deferred: ReturnType<typeof deferredInserts>;
  private readonly writeAll: (records: readonly ExchangeRecord[]) => void;
  /** Message hashes seen by this store; `stored` means the row is in this file. */
  private readonly hashes = new ChainHasher();
  /** Stored replies with reasoning, by the hash of their reasoning-less form (read through to `llm_relay_reply_aliases`). */
  private readonly aliases = new ReplyAliases();
  private pendingAliases: [string, CachedHash][] = [];
  /** Finds the stored reply with reasoning an input assistant message stands for: in memory, else in the file. */
  private readonly resolveAlias: ReplyAliasResolver = (_message, entry) => {
    const known = this.aliases.get(entry.hash);
    if (known) return known;
    const row = this.stmts.replyAlias.get(entry.hash) as { hash: string } | undefined;
    if (!row) return null;
    // Not marked stored: the INSERT OR IGNORE of a chain write finds the row (and costs little).
    const found: CachedHash = { hash: row.hash, stored: false };
    this.pendingAliases.push([entry.hash, found]);
    return found;
  };
  /** Legacy state of recently written conversations (LRU order). */
  private readonly conversations = new Map<string, ConversationState>();
  /** Cache updates of the running transaction, applied only once it commits. */
  private pendingStored: CachedHash[] = [];
  private pendingConversations = new Map<string, ConversationState>();
  private readonly checkpointer: IdleCheckpointer;

  /**
   * Runs a `PRAGMA` on this store's own connection and returns its rows (diagnostics and tests:
   * `max_page_count`, the per-connection size cap, is how the tests make the file full).
   * @param pragma the pragma without the keyword, e.g. `max_page_count = 50`
   * @throws on a pragma SQLite refuses
   */
  pragma(pragma: string): unknown {
    return this.db.pragma(pragma);
  }

  private constructor(
    private readonly db: Db,
    private readonly busyTimeoutMs: number,
  ) {
    this.stmts = prepareStatements(db);
    this.ledger = new SqliteLedgerWriter(db);
    this.deferred = deferredInserts(db);
    this.checkpointer = new IdleCheckpointer(db);
    this.writeAll = db.transaction((records: readonly ExchangeRecord[]) => {
      for (const record of records) this.writeOne(record);
      this.deferred.responses.flush();
      this.deferred.turnSearch.flush();
    });
  }

  /**
   * Opens (creating if needed) the logs.db at `path`, creating its parent
   * directories, and creates or completes the schema.
   * @param path file path, or `:memory:`
   * @param options.busyTimeoutMs how long a write waits for another connection's lock, in ms
   *   (default 5000). better-sqlite3 is synchronous, so the server passes a short one and
   *   lets the recorder retry later instead of blocking the event loop.
   * @throws when the file cannot be opened, is not SQLite, or has an llm
   *   schema llm-relay cannot complete (see `ensureSchema`)
   */
  static open(path: string, options: { busyTimeoutMs?: number } = {}): SqliteStore {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      configureWriter(db, options.busyTimeoutMs ?? BUSY_TIMEOUT_MS);
      // The usage ledger lives in this file too: its rows are written in the records' transactions.
      // Deferred, as before: a complete schema is only read, so an open never waits for another writer's lock.
      db.transaction(() => {
        ensureSchema(db);
        ensureTenancySchema(db);
      })();
      return new SqliteStore(db, options.busyTimeoutMs ?? BUSY_TIMEOUT_MS);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * Writes the exchanges in one transaction (all or none), each billable
   * record with billing together with its usage-ledger row (`llm_relay_usage`,
   * see {@link bookUsage}). The in-memory caches learn from a batch only once it has committed.
   * @throws on a database failure
   */
  writeBatch(records: readonly ExchangeRecord[]): void {
    try {
      this.writeAll(records);
      for (const entry of this.pendingStored) entry.stored = true;
      for (const [id, state] of this.pendingConversations) this.rememberConversation(id, state);
      for (const [bare, entry] of this.pendingAliases) this.aliases.set(bare, entry);
    } finally {
      this.pendingStored = [];
      this.pendingAliases = [];
      this.pendingConversations = new Map();
      this.deferred.responses.clear();
      this.deferred.turnSearch.clear();
      this.checkpointer.wrote();
    }
  }

  /**
   * Stores a chain of messages (existing ones are left alone). `skip[i]`
   * true: the row is known to be in the file, no statement is run.
   */
  private ensureChain(messages: readonly LlmMessage[], parent: string | null, hashes: readonly string[], skip: readonly boolean[]): void {
    let tip = parent;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      const hash = hashes[i]!;
      if (!skip[i] && this.stmts.insertMessage.run(hash, tip, message.role).changes > 0) {
        message.parts.forEach((part, position) => {
          const c = partColumns(part);
          this.stmts.insertPart.run(hash, position, part.type, c.toolName, c.text, c.payload);
        });
      }
      tip = hash;
    }
  }

  private rememberConversation(id: string, state: ConversationState): void {
    this.conversations.delete(id);
    this.conversations.set(id, state);
    if (this.conversations.size > MAX_CACHED_CONVERSATIONS) {
      this.conversations.delete(this.conversations.keys().next().value as string);
    }
  }

  /**
   * The legacy state of a joined conversation: from memory when our last
   * row is still its newest (one covering-index lookup), else from its rows.
   */
  private conversationState(id: string): { hasRows: boolean; lastSystem: string | null; known: boolean } {
    // This batch's own rows of the conversation are read too.
    if (this.deferred.responses.holds(id)) this.deferred.responses.flush();
    const newest = (this.stmts.newestResponseId.get(id) as { id: string } | undefined)?.id;
    if (newest === undefined) return { hasRows: false, lastSystem: null, known: false };
    const cached = this.pendingConversations.get(id) ?? this.conversations.get(id);
    if (cached && cached.responseId === newest) return { hasRows: true, lastSystem: cached.lastSystem, known: true };
    const row = this.stmts.latestSystem.get(id) as { system: string } | undefined;
    return { hasRows: true, lastSystem: row?.system ?? null, known: false };
  }

  private writeOne(r: ExchangeRecord): void {
    const input = analyzeInput(r.messages, this.hashes, this.resolveAlias);
    const tipThread =
      input.historyTipHash !== null ? (this.stmts.threadByTip.get(input.historyTipHash) as { id: string | null }).id : null;
    const joined = tipThread !== null ? { id: tipThread } : undefined;
    // A thread's tip is in the file, and so is its whole chain: only the new input needs writing.
    const skip = input.messages.map((_, i) => input.cached[i]?.stored === true || (joined !== undefined && i < input.boundary));
    this.ensureChain(input.messages, null, input.hashes, skip);
    for (const entry of input.cached) if (!entry.stored) this.pendingStored.push(entry);

    const threadId = joined?.id ?? newUlid(r.startedAt);
    const started = llmDatetime(startMs(r));
    const optionsJson = llmOptionsJson(r.options, "responses");
    const turnOptionsJson = llmOptionsJson(r.options, "turns");
    const responseJson = r.responseJson ? JSON.stringify(r.responseJson) : null;
    const legacy = joined ? this.conversationState(threadId) : { hasRows: false, lastSystem: null, known: false };

    if (!joined) {
      const name = conversationName(input.nameSource);
      this.stmts.insertThread.run(threadId, name, input.historyTipHash, threadDatetime(startMs(r)));
      this.stmts.insertConversation.run(threadId, name, r.requestedModel);
    } else if (!legacy.known) {
      this.stmts.insertConversation.run(threadId, conversationName(input.nameSource), r.requestedModel);
    }

    // Message store: the reply and the turn.
    const reply = replyToLlmMessage(r.responseText, r.toolCalls, r.reasoning);
    const writeTurn = r.status !== "error" || reply !== null;
    const tokenDetails = tokenDetailsJson(r);
    if (writeTurn) {
      let tip = input.lastInputHash;
      if (reply) {
        const hit = this.hashes.messages.lookup(reply, input.lastInputHash);
        this.ensureChain([reply], input.lastInputHash, [hit.hash], [hit.stored]);
        if (!hit.stored) this.pendingStored.push(hit);
        this.hashes.remember([...input.messages, reply], [...input.cached, hit]);
        tip = hit.hash;
        const bare = withoutReasoning(reply);
        if (bare !== reply) {
          const bareHash = this.hashes.messages.lookup(bare, input.lastInputHash).hash;
          this.stmts.insertReplyAlias.run(bareHash, hit.hash);
          this.pendingAliases.push([bareHash, hit]);
        }
      }
      this.stmts.insertTurn.run(
        r.id,
        threadId,
        input.lastInputHash,
        tip,
        r.requestedModel,
        r.resolvedModel,
        turnOptionsJson === "{}" ? null : turnOptionsJson,
        r.usage?.input ?? null,
        r.usage?.output ?? null,
        tokenDetails,
        r.durationMs,
        started,
        responseJson,
      );
      // A DELETE costs ~30 µs even when it matches nothing (trigger and FTS5 set-up); probe first.
      if (this.deferred.turnSearch.holds(r.id)) this.deferred.turnSearch.flush();
      if (this.stmts.hasTurnSearch.get(r.id) !== undefined) this.stmts.deleteTurnSearch.run(r.id);
      const search = turnSearchRow(r.id, input.messages[input.messages.length - 1], reply);
      if (search) this.deferred.turnSearch.add([search.turn_id, search.prompt, search.response], r.id);
      this.stmts.updateThreadTip.run(tip, threadId);
    }

    // Legacy rows: the history of a new conversation, then the live row.
    let { hasRows, lastSystem } = legacy;
    const systemFor = (): string | null => {
      const sys = input.systemText;
      const write = sys !== null && (!hasRows || sys !== lastSystem) ? sys : null;
      if (write !== null) lastSystem = write;
      hasRows = true;
      return write;
    };
    const toolSources: ToolRowSource[] = [];
    if (!joined) {
      const pairs = historyPairs(r.messages, input.boundary);
      const ids = idsBefore(r.id, r.startedAt, pairs.length);
      pairs.forEach((pair, i) => {
        this.deferred.responses.add([
          ids[i],
          r.requestedModel,
          pair.prompt,
          systemFor(),
          JSON.stringify(pair.promptJson),
          "{}",
          pair.response,
          null,
          threadId,
          0,
          started,
          0,
          0,
          null,
          null,
          null,
        ], threadId);
      });
      // The history's turns, so llm 0.32 shows it (and the system prompt once) from the message store.
      const history = historyTurnRows(pairs, ids, input, threadId, r.requestedModel, started);
      for (const t of history.turns) {
        this.stmts.insertTurn.run(t.id, t.thread_id, t.parent_message_hash, t.tip_message_hash, t.model, t.resolved_model,
          t.options_json, t.input_tokens, t.output_tokens, t.token_details, t.duration_ms, t.datetime_utc, t.response_json);
      }
      for (const row of history.search) this.deferred.turnSearch.add([row.turn_id, row.prompt, row.response], row.turn_id);
      toolSources.push(...historyToolSources(pairs, ids, input.messages));
    }
    this.deferred.responses.add([
      r.id,
      r.requestedModel,
      input.prompt,
      systemFor(),
      JSON.stringify(r.requestBody),
      optionsJson,
      r.responseText,
      responseJson,
      threadId,
      r.durationMs,
      started,
      r.usage?.input ?? null,
      r.usage?.output ?? null,
      tokenDetails,
      r.resolvedModel,
      recordReasoning(r),
    ], threadId);
    toolSources.push({ responseId: r.id, hasTurn: writeTurn, reply, inputs: input.messages.slice(input.boundary) });
    this.writeToolRows(exchangeToolRows(requestTools(r.requestBody), toolSources));
    this.pendingConversations.set(threadId, { responseId: r.id, lastSystem });
    this.stmts.insertExchange.run(
      r.id,
      r.requestId,
      r.provider,
      r.deployment,
      r.upstreamModel,
      r.httpStatus,
      r.status,
      r.error,
      r.ttftMs,
      r.usage ? (r.usage.estimated ? 1 : 0) : null,
      r.stream ? 1 : 0,
      r.finishReason,
      started,
      r.overheadMs ?? null,
      r.costUsd ?? null,
      r.attempts?.length ?? null,
      r.tenantId ?? null,
      r.keyId ?? null,
    );
    r.attempts?.forEach((a, i) => {
      this.stmts.insertAttempt.run(r.id, i + 1, a.model, a.deployment, a.provider, a.upstreamModel, a.status, a.httpStatus, a.startedMs, a.durationMs, a.error);
    });
    this.bookUsage(r);
  }

  /** Inserts an exchange's tool rows (tools by hash, then the rows that point at them). */
  private writeToolRows(rows: ExchangeToolRows): void {
    const ids = new Map<string, number | bigint>();
    for (const t of rows.tools) {
      this.stmts.insertTool.run(t.hash, t.name, t.description, t.input_schema);
      ids.set(t.hash, (this.stmts.toolIdByHash.get(t.hash) as { id: number | bigint }).id);
    }
    const id = (hash: string | null) => (hash === null ? null : (ids.get(hash) ?? null));
    for (const row of rows.toolResponses) this.stmts.insertToolResponse.run(id(row.tool_hash), row.response_id);
    for (const row of rows.turnTools) this.stmts.insertTurnTool.run(row.turn_id, id(row.tool_hash));
    for (const c of rows.toolCalls) this.stmts.insertToolCall.run(c.response_id, id(c.tool_hash), c.name, c.arguments, c.tool_call_id);
    for (const t of rows.toolResults) this.stmts.insertToolResult.run(t.response_id, id(t.tool_hash), t.name, t.output, t.tool_call_id);
  }

  /**
   * The record's usage-ledger row, in the running transaction (the ledger's
   * rules: `exchangeUsageEvent`, `rebookingKey`); nothing when it is not billed.
   */
  private bookUsage(r: ExchangeRecord): void {
    const event = exchangeUsageEvent(r);
    if (!event) return;
    const first = this.ledger.insert(usageRowOf(event));
    const again = rebookingKey(r.billing!, r.id, first);
    if (again !== null) this.ledger.insert(usageRowOf({ ...event, idempotencyKey: again }));
  }

  /**
   * Writes embedding exchanges into `llm_relay_embeddings` in one transaction (all or none).
   * @throws on a database failure
   */
  writeEmbeddings(records: readonly EmbeddingExchange[]): void {
    const insert = this.db.prepare(SQLITE_INSERT_EMBEDDING);
    this.db.transaction(() => {
      for (const record of records) {
        const row = embeddingRow(record);
        insert.run(...EMBEDDING_COLUMNS.map((column) => row[column]));
      }
    })();
  }

  /**
   * True when the file accepts a write lock now (`BEGIN IMMEDIATE; ROLLBACK`,
   * waiting at most 100 ms for another writer). Never throws.
   */
  isWritable(): boolean {
    if (!this.db.open || this.db.readonly) return false;
    if (this.db.inTransaction) return true; // this connection holds the lock already
    try {
      this.db.pragma("busy_timeout = 100");
      this.db.exec("BEGIN IMMEDIATE");
      this.db.exec("ROLLBACK");
      return true;
    } catch {
      return false;
    } finally {
      try {
        this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
      } catch {
        // connection unusable: the next write reports it
      }
    }
  }

  /** Recent `responses` rows (history rows included), newest id first, with our exchange metadata when present. */
  listResponses(query: LogQuery): LogRow[] {
    return queryResponses(this.db, query);
  }

  /** Closes the connection (idempotent). */
  close(): void {
    this.checkpointer.cancel();
    if (this.db.open) this.db.close();
  }
}
