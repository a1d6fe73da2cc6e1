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
import { foundExchange, type FoundExchangeRow } from "../found-exchange.js";
import type { RecordedExchangeLookup } from "../../protocol/inbound.js";
import { EMBEDDING_COLUMNS, SQLITE_INSERT_EMBEDDING, embeddingRow } from "../embedding-rows.js";
import type { CachedHash } from "../message-hash.js";
import type { ExchangeToolRows } from "../llm-tools.js";
import {
  ATTEMPT_COLUMNS,
  CONVERSATION_COLUMNS,
  EXCHANGE_COLUMNS,
  exchangeRows,
  MESSAGE_COLUMNS,
  PART_COLUMNS,
  REPLY_ALIAS_COLUMNS,
  RESPONSE_COLUMNS,
  THREAD_COLUMNS,
  TURN_COLUMNS,
  TURN_SEARCH_COLUMNS,
  type LegacyState,
  type MessageRow,
  type ThreadJoin,
} from "../exchange-rows.js";
import { queryResponses } from "./log-query.js";
import { configureWriter, IdleCheckpointer } from "./connection.js";
import { ensureSchema } from "./schema.js";
import { ChainHasher, ReplyAliases, type ReplyAliasResolver } from "../hash-chains.js";
import { analyzeInput } from "../threading.js";
import { DeferredInserts } from "./deferred-inserts.js";
import { insertHead, insertSql, rowValues } from "./row-sql.js";
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

/** The legacy state of an exchange that starts a conversation. */
const NEW_CONVERSATION: LegacyState = { hasRows: false, lastSystem: null };

/**
 * The two tables with an FTS5 trigger, written once per batch (see
 * deferred-inserts.ts). A `responses` row is added under its conversation's
 * id, a `turn_search` row under its turn's id.
 */
function deferredInserts(db: Db) {
  const responses = insertHead("responses", RESPONSE_COLUMNS);
  const turnSearch = insertHead("turn_search", TURN_SEARCH_COLUMNS);
  return {
    responses: new DeferredInserts(db, responses.head, responses.row),
    turnSearch: new DeferredInserts(db, turnSearch.head, turnSearch.row),
  };
}

/** The store's statements, prepared once; those generated from the builder's column lists are run with `rowValues(row, COLUMNS)`. */
function prepareStatements(db: Db) {
  const p = (sql: string): Statement => db.prepare(sql);
  return {
    insertMessage: p(insertSql("INSERT OR IGNORE", "messages", MESSAGE_COLUMNS)),
    insertPart: p(insertSql("INSERT", "parts", PART_COLUMNS)),
    // max() rather than ORDER BY … LIMIT 1: no temporary b-tree for the (usually single) match.
    threadByTip: p(`SELECT max(id) AS id FROM threads WHERE tip_message_hash = ?`),
    insertThread: p(insertSql("INSERT", "threads", THREAD_COLUMNS)),
    updateThreadTip: p(`UPDATE threads SET tip_message_hash = ? WHERE id = ?`),
    insertConversation: p(insertSql("INSERT OR IGNORE", "conversations", CONVERSATION_COLUMNS)),
    insertTurn: p(insertSql("INSERT OR REPLACE", "turns", TURN_COLUMNS)),
    insertTool:
      p(`INSERT INTO tools (hash, name, description, input_schema) VALUES (@hash, @name, @description, @input_schema)
      ON CONFLICT(hash) DO NOTHING`),
    toolIdByHash: p(`SELECT id FROM tools WHERE hash = ?`),
    insertToolResponse: p(
      `INSERT OR IGNORE INTO tool_responses (tool_id, response_id) VALUES (@tool_id, @response_id)`,
    ),
    insertTurnTool: p(`INSERT OR REPLACE INTO turn_tools (turn_id, tool_id) VALUES (@turn_id, @tool_id)`),
    insertToolCall: p(
      `INSERT INTO tool_calls (response_id, tool_id, name, arguments, tool_call_id) VALUES (@response_id, @tool_id, @name, @arguments, @tool_call_id)`,
    ),
    insertToolResult: p(
      `INSERT INTO tool_results (response_id, tool_id, name, output, tool_call_id) VALUES (@response_id, @tool_id, @name, @output, @tool_call_id)`,
    ),
    insertReplyAlias: p(insertSql("INSERT OR REPLACE", "llm_relay_reply_aliases", REPLY_ALIAS_COLUMNS)),
    replyAlias: p(`SELECT hash FROM llm_relay_reply_aliases WHERE bare_hash = ?`),
    hasTurnSearch: p(`SELECT 1 FROM turn_search WHERE turn_id = ?`),
    deleteTurnSearch: p(`DELETE FROM turn_search WHERE turn_id = ?`),
    newestResponseId: p(`SELECT id FROM responses WHERE conversation_id = ? ORDER BY rowid DESC LIMIT 1`),
    latestSystem: p(
      `SELECT system FROM responses WHERE conversation_id = ? AND system IS NOT NULL ORDER BY id DESC LIMIT 1`,
    ),
    insertExchange: p(insertSql("INSERT OR REPLACE", "llm_relay_exchanges", EXCHANGE_COLUMNS)),
    insertAttempt: p(insertSql("INSERT OR REPLACE", "llm_relay_attempts", ATTEMPT_COLUMNS)),
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

  /** Inserts the messages not stored yet, each with its parts when its row is new (content-addressed: an existing one is left alone). */
  private insertMessages(messages: readonly MessageRow[]): void {
    for (const message of messages) {
      if (this.stmts.insertMessage.run(...rowValues(message, MESSAGE_COLUMNS)).changes > 0) {
        for (const part of message.parts) this.stmts.insertPart.run(...rowValues(part, PART_COLUMNS));
      }
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
  private conversationState(id: string): LegacyState {
    // This batch's own rows of the conversation are read too.
    if (this.deferred.responses.holds(id)) this.deferred.responses.flush();
    const newest = (this.stmts.newestResponseId.get(id) as { id: string } | undefined)?.id;
    if (newest === undefined) return { hasRows: false, lastSystem: null, conversationStored: false };
    const cached = this.pendingConversations.get(id) ?? this.conversations.get(id);
    if (cached && cached.responseId === newest)
      return { hasRows: true, lastSystem: cached.lastSystem, conversationStored: true };
    const row = this.stmts.latestSystem.get(id) as { system: string } | undefined;
    return { hasRows: true, lastSystem: row?.system ?? null, conversationStored: false };
  }

  /**
   * Writes one exchange: finds the thread it joins (tip = its history's tip) and the
   * conversation's legacy state, has {@link exchangeRows} build the rows, and inserts them.
   */
  private writeOne(r: ExchangeRecord): void {
    const input = analyzeInput(r.messages, this.hashes, this.resolveAlias);
    const tipThread =
      input.historyTipHash !== null
        ? (this.stmts.threadByTip.get(input.historyTipHash) as { id: string | null }).id
        : null;
    // A thread's tip is in the file, and so is its whole chain: only the new input needs writing.
    const join: ThreadJoin | null =
      tipThread !== null ? { threadId: tipThread, historyStored: true, moveTip: true } : null;
    // A conversation whose newest row this store wrote has its `conversations` row.
    const legacy = join ? this.conversationState(join.threadId) : NEW_CONVERSATION;
    const rows = exchangeRows(r, input, this.hashes, join, legacy);
    for (const entry of rows.newlyStored) this.pendingStored.push(entry);

    this.insertMessages(rows.messages);
    if (rows.thread) this.stmts.insertThread.run(...rowValues(rows.thread, THREAD_COLUMNS));
    if (rows.conversation) this.stmts.insertConversation.run(...rowValues(rows.conversation, CONVERSATION_COLUMNS));
    if (rows.replyAlias) {
      this.stmts.insertReplyAlias.run(...rowValues(rows.replyAlias, REPLY_ALIAS_COLUMNS));
      this.pendingAliases.push([rows.replyAlias.bare_hash, rows.replyAliasEntry!]);
    }
    if (rows.turn) {
      this.stmts.insertTurn.run(...rowValues(rows.turn, TURN_COLUMNS));
      const turnId = rows.turn.id;
      // A DELETE costs ~30 µs even when it matches nothing (trigger and FTS5 set-up); probe first.
      if (this.deferred.turnSearch.holds(turnId)) this.deferred.turnSearch.flush();
      if (this.stmts.hasTurnSearch.get(turnId) !== undefined) this.stmts.deleteTurnSearch.run(turnId);
      if (rows.turnSearch) this.deferred.turnSearch.add(rowValues(rows.turnSearch, TURN_SEARCH_COLUMNS), turnId);
    }
    if (rows.threadTip !== null) this.stmts.updateThreadTip.run(rows.threadTip, rows.threadId);
    for (const response of rows.responses)
      this.deferred.responses.add(rowValues(response, RESPONSE_COLUMNS), response.conversation_id);
    // The history's turns, so llm 0.32 shows it (and the system prompt once) from the message store.
    for (const turn of rows.historyTurns) this.stmts.insertTurn.run(...rowValues(turn, TURN_COLUMNS));
    for (const row of rows.historyTurnSearch)
      this.deferred.turnSearch.add(rowValues(row, TURN_SEARCH_COLUMNS), row.turn_id);
    this.writeToolRows(rows.tools);
    this.pendingConversations.set(rows.threadId, { responseId: r.id, lastSystem: rows.lastSystem });
    this.stmts.insertExchange.run(...rowValues(rows.exchange, EXCHANGE_COLUMNS));
    for (const attempt of rows.attempts) this.stmts.insertAttempt.run(...rowValues(attempt, ATTEMPT_COLUMNS));
    this.bookUsage(r);
  }

  /** Inserts an exchange's tool rows (tools by hash, then the rows that point at them). */
  private writeToolRows(rows: ExchangeToolRows): void {
    const ids = new Map<string, number | bigint>();
    for (const t of rows.tools) {
      this.stmts.insertTool.run(t);
      ids.set(t.hash, (this.stmts.toolIdByHash.get(t.hash) as { id: number | bigint }).id);
    }
    // Each row names its tool by hash; the statements take the tool's id (`tool_id`).
    const withId = <T extends { tool_hash: string | null }>(row: T) => ({
      ...row,
      tool_id: row.tool_hash === null ? null : (ids.get(row.tool_hash) ?? null),
    });
    for (const row of rows.toolResponses) this.stmts.insertToolResponse.run(withId(row));
    for (const row of rows.turnTools) this.stmts.insertTurnTool.run(withId(row));
    for (const row of rows.toolCalls) this.stmts.insertToolCall.run(withId(row));
    for (const row of rows.toolResults) this.stmts.insertToolResult.run(withId(row));
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

  /** One recorded exchange by id, for `tenantId` only (a record without a tenant is `default`'s); null otherwise. */
  findExchange(id: string, tenantId: string): RecordedExchangeLookup | null {
    const row = this.db.prepare(SQLITE_FIND_EXCHANGE).get(id, tenantId) as FoundExchangeRow | undefined;
    return row ? foundExchange(row) : null;
  }

  /** Closes the connection (idempotent). */
  close(): void {
    this.checkpointer.cancel();
    if (this.db.open) this.db.close();
  }
}

/** `findExchange`'s query: an exchange (never a history row) of the tenant, by id. */
const SQLITE_FIND_EXCHANGE = `SELECT r.id AS id, e.protocol AS protocol, r.prompt_json AS prompt_json,
  r.response_json AS response_json, e.status AS status
FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id
WHERE r.id = ? AND coalesce(e.tenant_id, 'default') = ?`;
