/**
 * The PostgreSQL record store: the same rows as the SQLite logs.db (see
 * pg-schema.ts for the tables, ../exchange-rows.ts for the rows of one
 * exchange, the builder SqliteStore uses too), written through the `postgres` package, so that several
 * llm-relay instances can record into one database.
 *
 * Several writers: every exchange of a conversation shares the hash of the
 * conversation's first message (its chain's root), so a batch first takes
 * a transaction-scoped advisory lock on each root it touches, in ascending
 * key order (no deadlock between instances). Under that lock the thread to
 * join is looked up and extended exactly as one writer would; message rows
 * are content-addressed and inserted with `ON CONFLICT DO NOTHING`. A batch
 * that still meets a serialization failure or a deadlock is retried.
 *
 * Because another instance may record a conversation's exchanges out of
 * order (the client's next request was answered, and recorded, by another
 * instance first), two lookups follow the exact one of SqliteStore
 * (thread tip = history tip): a thread whose tip lies inside the history
 * (an earlier exchange is not recorded yet: join it, move the tip), then a
 * thread whose tip lies strictly below this exchange's reply (or last input)
 * and which holds a later turn (this exchange is the late one: join it,
 * leave the tip). Identical requests still fork, as on one SQLite file.
 */
import postgres, { type Sql, type TransactionSql } from "postgres";
import type { EmbeddingExchange, ExchangeRecord, LogQuery, LogRow, RecordStore } from "../types.js";
import { foundExchange, type FoundExchangeRow } from "../found-exchange.js";
import type { RecordedExchangeLookup } from "../../protocol/inbound.js";
import { EMBEDDING_COLUMNS, embeddingRow } from "../embedding-rows.js";
import type { CachedHash } from "../message-hash.js";
import { replyToLlmMessage } from "../llm-message.js";
import { ChainHasher, ReplyAliases, type ReplyAliasResolver } from "../hash-chains.js";
import { analyzeInput, type AnalyzedInput } from "../threading.js";
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
  type ExchangeRows,
  type LegacyState,
  type ThreadJoin,
} from "../exchange-rows.js";
import type { ExchangeToolRows } from "../llm-tools.js";
import { queryPgResponses } from "./pg-log-query.js";
import { runPgMigrations } from "./pg-schema.js";
import { exchangeUsageEvent, rebookingKey } from "../../tenancy/exchange-usage.js";
import { insertUsageRow, lockLedgerScopes } from "../../tenancy/postgres/ledger-writer.js";
import { migrateTenancy } from "../../tenancy/postgres/migrations.js";
import { usageRowOf } from "../../tenancy/usage-event.js";
import type { UsageRow } from "../../tenancy/types.js";

/** Options of {@link PgStore.open}. */
export interface PgStoreOptions {
  /** Schema the tables live in (`search_path`); default: the server's default (`public`). */
  schema?: string;
  /** Most connections in the pool (default 4). */
  max?: number;
  /** Attempts of a batch that meets a serialization failure or deadlock (default 8). */
  maxAttempts?: number;
}

/** SQLSTATEs worth retrying a whole transaction for: serialization_failure, deadlock_detected. */
const RETRYABLE = new Set(["40001", "40P01"]);
/** How far below a message the late-exchange lookup walks (messages). */
const DESCENDANT_DEPTH = 256;
/** Advisory-lock key of exchanges without any input message. */
const NO_ROOT_KEY = "0";

/** A store-level failure that is not the database's (bad URL, wrong schema name). */
export class PgStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PgStoreError";
  }
}

/** `postgres()` options for `url`, optionally pinned to `schema`, quiet about NOTICEs. */
export function pgConnection(url: string, options: { schema?: string; max?: number } = {}): Sql {
  if (options.schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.schema)) {
    throw new PgStoreError(`invalid PostgreSQL schema name '${options.schema}'`);
  }
  return postgres(url, {
    max: options.max ?? 4,
    onnotice: () => undefined,
    ...(options.schema !== undefined ? { connection: { search_path: options.schema } } : {}),
  });
}

/** The advisory-lock key of a conversation root: the first 64 bits of its hash, as a signed bigint string. */
export function rootLockKey(rootHash: string | null): string {
  if (rootHash === null) return NO_ROOT_KEY;
  const hex = rootHash.replace(/^b2:/, "").slice(0, 16).padEnd(16, "0");
  return BigInt.asIntN(64, BigInt(`0x${hex}`)).toString();
}

/**
 * A {@link RecordStore} on PostgreSQL. Safe to use from several processes
 * on one database at once; each instance writes one batch at a time.
 */
export class PgStore implements RecordStore {
  /** Each billable record's usage-ledger row is written in the record's own transaction (the tenancy tables are in this database). */
  readonly booksUsage = true;
  /** Message hashes seen by this store; `stored` means the row is in the database. */
  private readonly hashes = new ChainHasher();
  /** Stored replies with reasoning, by the hash of their reasoning-less form (read through to `llm_relay_reply_aliases`). */
  private readonly aliases = new ReplyAliases();
  private closed = false;

  private constructor(
    /** The connection pool (exposed for tests and `export`). */
    readonly sql: Sql,
    private readonly maxAttempts: number,
  ) {}

  /**
   * Connects to `url` and applies the migrations the database lacks.
   * @param url a `postgres://` URL
   * @throws PgStoreError for a bad schema name; the driver's error when the
   *   server cannot be reached or a migration fails (the pool is then closed)
   */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
    const sql = pgConnection(url, options);
    try {
      await runPgMigrations(sql);
      // The usage ledger the batches write into (the tenancy store runs the same migrations when it opens).
      await migrateTenancy(sql);
    } catch (error) {
      await sql.end({ timeout: 1 });
      throw error;
    }
    return new PgStore(sql, options.maxAttempts ?? 8);
  }

  /**
   * Writes the exchanges in one transaction (all or none), each billable
   * record with billing together with its usage-ledger row (`llm_relay_usage`),
   * retrying it on a serialization failure or deadlock. The ledger's advisory
   * locks (its running totals) are taken after the conversation roots', all at once.
   * @throws the database error of the last attempt
   */
  async writeBatch(records: readonly ExchangeRecord[]): Promise<void> {
    if (records.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      const stored: CachedHash[] = [];
      const aliases: [string, CachedHash][] = [];
      try {
        await this.sql.begin(async (tx) => {
          // Replies with reasoning written earlier in this batch: a later record's history may hold one (without its reasoning).
          const batchAliases = new Map<string, CachedHash>();
          const inputs: AnalyzedInput[] = [];
          for (const r of records) inputs.push(await this.analyze(tx, r, aliases, batchAliases));
          const keys = [...new Set(inputs.map((input) => rootLockKey(input.hashes[0] ?? null)))].sort((a, b) =>
            BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0,
          );
          for (const key of keys) await tx`SELECT pg_advisory_xact_lock(${key}::bigint)`;
          const bills = records.map(usageRowOfRecord);
          await lockLedgerScopes(
            tx,
            bills.filter((row) => row !== null),
          );
          for (let i = 0; i < records.length; i++) {
            // Analysed again once this batch has written a reply with reasoning, which the first analysis could not see
            // (the conversation roots, and so the locks taken above, do not depend on it).
            const input =
              batchAliases.size > 0 ? await this.analyze(tx, records[i]!, aliases, batchAliases) : inputs[i]!;
            const rows = await this.writeOne(tx, records[i]!, input);
            stored.push(...rows.newlyStored);
            if (rows.replyAlias) {
              aliases.push([rows.replyAlias.bare_hash, rows.replyAliasEntry!]);
              batchAliases.set(rows.replyAlias.bare_hash, rows.replyAliasEntry!);
            }
            await bookUsage(tx, records[i]!, bills[i] ?? null);
          }
        });
        for (const entry of stored) entry.stored = true;
        for (const [bare, entry] of aliases) this.aliases.set(bare, entry);
        return;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (typeof code === "string" && RETRYABLE.has(code) && attempt < this.maxAttempts) {
          await sleep(Math.min(20 * 2 ** attempt, 1000) * Math.random());
          continue;
        }
        throw error;
      }
    }
  }

  /**
   * Writes embedding exchanges into `llm_relay_embeddings` in one statement (a retried record replaces its row).
   * @throws the database error
   */
  async writeEmbeddings(records: readonly EmbeddingExchange[]): Promise<void> {
    if (records.length === 0) return;
    const rows = records.map(embeddingRow);
    const updates = EMBEDDING_COLUMNS.filter((c) => c !== "id")
      .map((c) => `"${c}" = excluded."${c}"`)
      .join(", ");
    await this
      .sql`INSERT INTO llm_relay_embeddings ${this.sql(rows, ...EMBEDDING_COLUMNS)} ON CONFLICT (id) DO UPDATE SET ${this.sql.unsafe(updates)}`;
  }

  /**
   * `analyzeInput` with the stored replies with reasoning that the history's
   * assistant messages stand for: from memory, else from `llm_relay_reply_aliases`.
   * The hashes asked for depend on the aliases found before them, so the
   * analysis runs again while a lookup finds new aliases (once more per
   * reasoning reply in a history not remembered; no query when every
   * assistant message comes from a remembered chain or from memory).
   * @param found collects the aliases read from the database, for memory once committed
   * @param batch the aliases of the replies this batch's transaction has written so far (not committed yet)
   */
  private async analyze(
    tx: TransactionSql,
    r: ExchangeRecord,
    found: [string, CachedHash][],
    batch: ReadonlyMap<string, CachedHash>,
  ): Promise<AnalyzedInput> {
    const fromDb = new Map<string, CachedHash>();
    for (;;) {
      const asked: string[] = [];
      const resolve: ReplyAliasResolver = (_message, entry) => {
        const hit = this.aliases.get(entry.hash) ?? batch.get(entry.hash) ?? fromDb.get(entry.hash);
        if (!hit) asked.push(entry.hash);
        return hit ?? null;
      };
      const input = analyzeInput(r.messages, this.hashes, resolve);
      const unknown = asked.filter((hash) => !fromDb.has(hash));
      if (unknown.length === 0) return input;
      const rows = await tx<{ bare_hash: string; hash: string }[]>`
        SELECT bare_hash, hash FROM llm_relay_reply_aliases WHERE bare_hash = ANY(${unknown}::text[])`;
      if (rows.length === 0) return input;
      for (const row of rows) {
        const entry: CachedHash = { hash: row.hash, stored: false };
        fromDb.set(row.bare_hash, entry);
        found.push([row.bare_hash, entry]);
      }
    }
  }

  /** Writes one exchange; returns its rows (the hash-cache entries to mark stored once committed, the reply alias). */
  private async writeOne(tx: TransactionSql, r: ExchangeRecord, input: AnalyzedInput): Promise<ExchangeRows> {
    const join = await this.findThread(tx, r, input);
    const legacy = join ? await legacyState(tx, join.threadId) : { hasRows: false, lastSystem: null };
    const rows = exchangeRows(r, input, this.hashes, join, legacy);
    await writeRows(tx, rows);
    return rows;
  }

  /** The thread the exchange joins (see the module comment), or null for a new conversation. */
  private async findThread(tx: TransactionSql, r: ExchangeRecord, input: AnalyzedInput): Promise<ThreadJoin | null> {
    if (input.historyTipHash !== null) {
      const [exact] = await tx<
        { id: string | null }[]
      >`SELECT max(id) AS id FROM threads WHERE tip_message_hash = ${input.historyTipHash}`;
      if (exact?.id) return { threadId: exact.id, historyStored: true, moveTip: true };
      const earlier = input.hashes.slice(0, Math.max(0, input.boundary - 1));
      if (earlier.length > 0) {
        const found = await tx<{ id: string; tip: string }[]>`
          SELECT id, tip_message_hash AS tip FROM threads WHERE tip_message_hash = ANY(${earlier}::text[])`;
        if (found.length > 0) {
          const depth = (tip: string) => earlier.lastIndexOf(tip);
          found.sort((a, b) => depth(b.tip) - depth(a.tip) || (a.id < b.id ? 1 : -1));
          return { threadId: found[0]!.id, historyStored: false, moveTip: true };
        }
      }
    }
    // The late exchange: its reply (or last input) is already in a thread that holds a later turn.
    const own = ownTipHash(r, input, this.hashes);
    if (own === null) return null;
    const [late] = await tx<{ id: string }[]>`
      WITH RECURSIVE below(hash, depth) AS (
        SELECT ${own}::text, 0
        UNION ALL
        SELECT m.hash, below.depth + 1 FROM messages m JOIN below ON m.parent_hash = below.hash
         WHERE below.depth < ${DESCENDANT_DEPTH})
      SELECT t.id FROM threads t JOIN below ON t.tip_message_hash = below.hash
       WHERE below.depth > 0 AND EXISTS (SELECT 1 FROM turns tu WHERE tu.thread_id = t.id AND tu.id > ${r.id})
       ORDER BY below.depth DESC, t.id DESC LIMIT 1`;
    return late ? { threadId: late.id, historyStored: false, moveTip: false } : null;
  }

  /**
   * True when the database answers and accepts writes (not a read-only
   * standby or transaction), within 2 s. Never throws.
   */
  async isWritable(): Promise<boolean> {
    if (this.closed) return false;
    const probe = this.sql<{ ro: string }[]>`SELECT current_setting('transaction_read_only') AS ro`.then(
      (rows) => rows[0]?.ro === "off",
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 2000);
    });
    try {
      return await Promise.race([probe, timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Recent `responses` rows (history rows included), newest id first, with our exchange metadata. */
  listResponses(query: LogQuery): Promise<LogRow[]> {
    return queryPgResponses(this.sql, query);
  }

  /** One recorded exchange by id, for `tenantId` only (a record without a tenant is `default`'s); null otherwise. */
  async findExchange(id: string, tenantId: string): Promise<RecordedExchangeLookup | null> {
    const found = await this.sql<FoundExchangeRow[]>`
      SELECT r.id AS id, e.protocol AS protocol, r.prompt_json AS prompt_json,
        r.response_json AS response_json, e.status AS status
      FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id
      WHERE r.id = ${id} AND coalesce(e.tenant_id, 'default') = ${tenantId}`;
    const row = found[0];
    return row ? foundExchange(row) : null;
  }

  /** Closes the pool, letting running queries finish for up to 5 s (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sql.end({ timeout: 5 });
  }
}

/** The hash the exchange's turn ends at: its reply's (the same cache entry exchangeRows uses), else its last input message's. */
function ownTipHash(r: ExchangeRecord, input: AnalyzedInput, hasher: ChainHasher): string | null {
  const reply = replyToLlmMessage(r.responseText, r.toolCalls, r.reasoning);
  return reply ? hasher.messages.lookup(reply, input.lastInputHash).hash : input.lastInputHash;
}

/** The ledger row of a billed record (`exchangeUsageEvent`), or null. */
function usageRowOfRecord(r: ExchangeRecord): UsageRow | null {
  const event = exchangeUsageEvent(r);
  return event ? usageRowOf(event) : null;
}

/** Writes a record's ledger row in the batch's transaction; a request id taken by another exchange books it under `<key>/<id>` (`rebookingKey`). */
async function bookUsage(tx: TransactionSql, r: ExchangeRecord, row: UsageRow | null): Promise<void> {
  if (row === null) return;
  const first = await insertUsageRow(tx, row);
  const again = rebookingKey(r.billing!, r.id, first);
  if (again !== null) await insertUsageRow(tx, usageRowOf({ ...exchangeUsageEvent(r)!, idempotencyKey: again }));
}

async function legacyState(tx: TransactionSql, conversationId: string): Promise<LegacyState> {
  const [row] = await tx<{ has_rows: boolean; last_system: string | null }[]>`
    SELECT EXISTS (SELECT 1 FROM responses WHERE conversation_id = ${conversationId}) AS has_rows,
           (SELECT system FROM responses WHERE conversation_id = ${conversationId} AND system IS NOT NULL
             ORDER BY id DESC LIMIT 1) AS last_system`;
  return { hasRows: row?.has_rows ?? false, lastSystem: row?.last_system ?? null };
}

/** `a = excluded.a, …` for every column but the conflict key's (an upsert that replaces the row, as SQLite's `INSERT OR REPLACE`). */
function replaceSet(columns: readonly string[], key: readonly string[], extra = ""): string {
  const set = columns.filter((c) => !key.includes(c)).map((c) => `"${c}" = excluded."${c}"`);
  if (extra !== "") set.push(extra);
  return set.join(", ");
}

/** `ON CONFLICT … DO UPDATE SET` lists, generated once from the builder's columns. */
const TURN_UPDATE = replaceSet(TURN_COLUMNS, ["id"], "schema_id = NULL");
const REPLY_ALIAS_UPDATE = replaceSet(REPLY_ALIAS_COLUMNS, ["bare_hash"]);
const EXCHANGE_UPDATE = replaceSet(EXCHANGE_COLUMNS, ["response_id"]);
const ATTEMPT_UPDATE = replaceSet(ATTEMPT_COLUMNS, ["response_id", "attempt"]);

/** Inserts the rows of one exchange (content-addressed messages only when absent), several rows per statement. */
async function writeRows(tx: TransactionSql, rows: ExchangeRows): Promise<void> {
  if (rows.messages.length > 0) {
    const inserted = await tx`
      INSERT INTO messages ${tx(rows.messages, ...MESSAGE_COLUMNS)} ON CONFLICT (hash) DO NOTHING RETURNING hash`;
    const fresh = new Set(inserted.map((row) => row.hash as string));
    const parts = rows.messages.filter((m) => fresh.has(m.hash)).flatMap((m) => m.parts);
    if (parts.length > 0) await tx`INSERT INTO parts ${tx(parts, ...PART_COLUMNS)}`;
  }
  if (rows.thread) await tx`INSERT INTO threads ${tx(rows.thread, ...THREAD_COLUMNS)}`;
  if (rows.conversation)
    await tx`INSERT INTO conversations ${tx(rows.conversation, ...CONVERSATION_COLUMNS)} ON CONFLICT (id) DO NOTHING`;
  if (rows.turn) {
    const t = rows.turn;
    await tx`INSERT INTO turns ${tx(t, ...TURN_COLUMNS)} ON CONFLICT (id) DO UPDATE SET ${tx.unsafe(TURN_UPDATE)}`;
    await tx`DELETE FROM turn_search WHERE turn_id = ${t.id}`;
    if (rows.turnSearch) await tx`INSERT INTO turn_search ${tx(rows.turnSearch, ...TURN_SEARCH_COLUMNS)}`;
  }
  if (rows.historyTurns.length > 0) await tx`INSERT INTO turns ${tx(rows.historyTurns, ...TURN_COLUMNS)}`;
  if (rows.historyTurnSearch.length > 0)
    await tx`INSERT INTO turn_search ${tx(rows.historyTurnSearch, ...TURN_SEARCH_COLUMNS)}`;
  if (rows.replyAlias) {
    await tx`INSERT INTO llm_relay_reply_aliases ${tx(rows.replyAlias, ...REPLY_ALIAS_COLUMNS)}
      ON CONFLICT (bare_hash) DO UPDATE SET ${tx.unsafe(REPLY_ALIAS_UPDATE)}`;
  }
  if (rows.threadTip !== null)
    await tx`UPDATE threads SET tip_message_hash = ${rows.threadTip} WHERE id = ${rows.threadId}`;
  await tx`INSERT INTO responses ${tx(rows.responses, ...RESPONSE_COLUMNS)}`;
  await writeToolRows(tx, rows.tools);
  await tx`
    INSERT INTO llm_relay_exchanges ${tx(rows.exchange, ...EXCHANGE_COLUMNS)}
    ON CONFLICT (response_id) DO UPDATE SET ${tx.unsafe(EXCHANGE_UPDATE)}`;
  if (rows.attempts.length > 0) {
    await tx`
      INSERT INTO llm_relay_attempts ${tx(rows.attempts, ...ATTEMPT_COLUMNS)}
      ON CONFLICT (response_id, attempt) DO UPDATE SET ${tx.unsafe(ATTEMPT_UPDATE)}`;
  }
}

/** Inserts an exchange's tool rows: the tools by hash (`ON CONFLICT (hash) DO NOTHING`), then the rows that point at their ids. */
async function writeToolRows(tx: TransactionSql, rows: ExchangeToolRows): Promise<void> {
  if (rows.tools.length === 0 && rows.toolCalls.length === 0 && rows.toolResults.length === 0) return;
  const ids = new Map<string, string>();
  if (rows.tools.length > 0) {
    await tx`INSERT INTO tools ${tx(rows.tools, "hash", "name", "description", "input_schema")} ON CONFLICT (hash) DO NOTHING`;
    const found = await tx<
      { id: string; hash: string }[]
    >`SELECT id, hash FROM tools WHERE hash = ANY(${rows.tools.map((t) => t.hash)}::text[])`;
    for (const row of found) ids.set(row.hash, String(row.id));
  }
  const id = (hash: string | null) => (hash === null ? null : (ids.get(hash) ?? null));
  if (rows.toolResponses.length > 0) {
    await tx`INSERT INTO tool_responses ${tx(
      rows.toolResponses.map((r) => ({ tool_id: id(r.tool_hash), response_id: r.response_id })),
      "tool_id",
      "response_id",
    )} ON CONFLICT DO NOTHING`;
  }
  if (rows.turnTools.length > 0) {
    await tx`INSERT INTO turn_tools ${tx(
      rows.turnTools.map((r) => ({ turn_id: r.turn_id, tool_id: id(r.tool_hash) })),
      "turn_id",
      "tool_id",
    )}
      ON CONFLICT (turn_id, tool_id) DO UPDATE SET instance_id = NULL`;
  }
  if (rows.toolCalls.length > 0) {
    await tx`INSERT INTO tool_calls ${tx(
      rows.toolCalls.map((c) => ({
        response_id: c.response_id,
        tool_id: id(c.tool_hash),
        name: c.name,
        arguments: c.arguments,
        tool_call_id: c.tool_call_id,
      })),
      "response_id",
      "tool_id",
      "name",
      "arguments",
      "tool_call_id",
    )}`;
  }
  if (rows.toolResults.length > 0) {
    await tx`INSERT INTO tool_results ${tx(
      rows.toolResults.map((t) => ({
        response_id: t.response_id,
        tool_id: id(t.tool_hash),
        name: t.name,
        output: t.output,
        tool_call_id: t.tool_call_id,
      })),
      "response_id",
      "tool_id",
      "name",
      "output",
      "tool_call_id",
    )}`;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
