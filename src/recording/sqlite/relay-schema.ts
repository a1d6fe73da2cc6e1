/**
 * llm-relay's own tables in the logs.db, next to llm's: their DDL, their
 * version (`llm_relay_schema`) and the upgrade of a file an older llm-relay
 * wrote. Called by `ensureSchema`, inside its transaction.
 */
import type { Database } from "better-sqlite3";
import {
  BROWSE_INDEXES_DDL,
  EXCHANGE_INSERT_STATS,
  RESPONSE_INSERT_STATS,
  exchangeConversation,
  recomputeStatsSql,
  refreshStatsSql,
} from "../../browse/stats-sql.js";

/** Version of llm-relay's own tables, kept in `llm_relay_schema`. */
export const RELAY_SCHEMA_VERSION = 7;

/** Columns of `llm_relay_exchanges` added after version 1 (development builds of 1 lacked `overhead_ms`). */
const ADDED_COLUMNS: readonly (readonly [string, string])[] = [
  ["overhead_ms", "REAL"],
  ["cost_usd", "REAL"],
  ["attempts", "INTEGER"],
  // Version 4: who made the request (API keys).
  ["tenant_id", "TEXT"],
  ["key_id", "TEXT"],
  // Version 5: the inbound protocol (chat, messages, responses); NULL on older rows means chat.
  ["protocol", "TEXT"],
  // Version 6: the tool convention a raw-completion backend's prompt offered tools with (issue 19); NULL: none.
  ["tool_convention", "TEXT"],
  // Version 7: the client's User-Agent (issue 21); NULL: none sent, or recorded before.
  ["client", "TEXT"],
];

/**
 * llm-relay's own tables: one row of exchange metadata per live `responses`
 * row (`status` is one of ok, error, cancelled, truncated; `usage_estimated`
 * and `stream` are 0/1), the upstream attempts, one row per embeddings
 * exchange (`llm_relay_embeddings`, added in version 3: counts only, never
 * the input text), the reply aliases (`llm_relay_reply_aliases`: the hash
 * a stored reply with reasoning has as the client re-sends it, without its
 * reasoning → the stored reply's hash; added without a version change, since
 * a build that does not know it simply leaves it alone), the version of these tables, and two lookup indexes on
 * llm's tables that the threading queries use. Every statement is
 * `IF NOT EXISTS`, so a file of an older version gets the new tables here.
 */
const RELAY_DDL = `
CREATE TABLE IF NOT EXISTS "llm_relay_schema" ("version" INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS "llm_relay_exchanges" (
  "response_id" TEXT PRIMARY KEY REFERENCES "responses"("id"),
  "request_id" TEXT,
  "provider" TEXT,
  "deployment" TEXT,
  "upstream_model" TEXT,
  "http_status" INTEGER,
  "status" TEXT,
  "error" TEXT,
  "ttft_ms" INTEGER,
  "usage_estimated" INTEGER,
  "stream" INTEGER,
  "finish_reason" TEXT,
  "datetime_utc" TEXT,
  "overhead_ms" REAL,
  "cost_usd" REAL,
  "attempts" INTEGER,
  "tenant_id" TEXT,
  "key_id" TEXT,
  "protocol" TEXT,
  "tool_convention" TEXT,
  "client" TEXT);
CREATE TABLE IF NOT EXISTS "llm_relay_attempts" (
  "response_id" TEXT NOT NULL REFERENCES "responses"("id"),
  "attempt" INTEGER NOT NULL,
  "model" TEXT,
  "deployment" TEXT,
  "provider" TEXT,
  "upstream_model" TEXT,
  "status" TEXT,
  "http_status" INTEGER,
  "started_ms" REAL,
  "duration_ms" REAL,
  "error" TEXT,
  PRIMARY KEY ("response_id", "attempt"));
CREATE TABLE IF NOT EXISTS "llm_relay_embeddings" (
  "id" TEXT PRIMARY KEY,
  "request_id" TEXT,
  "datetime_utc" TEXT,
  "model" TEXT,
  "provider" TEXT,
  "deployment" TEXT,
  "upstream_model" TEXT,
  "input_count" INTEGER,
  "input_tokens" INTEGER,
  "usage_estimated" INTEGER,
  "dimensions" INTEGER,
  "http_status" INTEGER,
  "status" TEXT,
  "error" TEXT,
  "duration_ms" INTEGER,
  "cost_usd" REAL,
  "tenant_id" TEXT,
  "key_id" TEXT);
CREATE TABLE IF NOT EXISTS "llm_relay_reply_aliases" (
  "bare_hash" TEXT PRIMARY KEY,
  "hash" TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS "llm_relay_idx_embeddings_datetime" ON "llm_relay_embeddings" ("datetime_utc");
CREATE INDEX IF NOT EXISTS "llm_relay_idx_threads_tip" ON "threads" ("tip_message_hash");
CREATE INDEX IF NOT EXISTS "llm_relay_idx_responses_conversation" ON "responses" ("conversation_id");
`;

/**
 * The conversation browser's summary of each conversation (version 7; see browse/stats-sql.ts). No
 * `NOT NULL` besides the key, on purpose: a constraint the triggers' writes could break makes every
 * statement that fires them open a statement journal, measured at 11 µs per `llm_relay_exchanges`
 * insert (the triggers never write a NULL there).
 */
const STATS_TABLE_DDL = `CREATE TABLE "llm_relay_conversation_stats" (
  "conversation_id" TEXT PRIMARY KEY,
  "first_response_id" TEXT,
  "last_response_id" TEXT,
  "first_utc" TEXT,
  "last_utc" TEXT,
  "turns" INTEGER,
  "input_tokens" INTEGER,
  "output_tokens" INTEGER,
  "cost_usd" REAL,
  "model" TEXT,
  "provider" TEXT,
  "protocol" TEXT,
  "client" TEXT,
  "tenant_id" TEXT,
  "key_id" TEXT,
  "last_status" TEXT)`;

/** A trigger body: the statements, each ended by `;`. */
const body = (statements: readonly string[]): string => statements.map((s) => `${s};`).join("\n");

/**
 * The triggers that keep `llm_relay_conversation_stats` true (see browse/stats-sql.ts): a new
 * `responses` row adds a turn; a deleted one, or one moved to another conversation (bench's rehome),
 * recomputes its conversation(s) from their rows; a new exchange row adds its cost (and the last
 * exchange's columns); one replaced (`INSERT OR REPLACE`, whose implicit delete fires no trigger)
 * first takes the old row's cost back; an updated or deleted one recomputes its conversation. The
 * exchange's trigger has work only when its `responses` row is there already (SqliteStore inserts that
 * row at the end of the batch, so on its record path the trigger finds nothing to do; it still costs
 * ~12 µs an insert, measured: SQLite sets up a trigger body's frame before testing its `WHEN`).
 */
const STATS_TRIGGERS_DDL = `
CREATE TRIGGER IF NOT EXISTS "llm_relay_stats_responses_ai" AFTER INSERT ON "responses"
WHEN NEW."conversation_id" IS NOT NULL BEGIN
${body([RESPONSE_INSERT_STATS])}
END;
CREATE TRIGGER IF NOT EXISTS "llm_relay_stats_responses_ad" AFTER DELETE ON "responses"
WHEN OLD."conversation_id" IS NOT NULL BEGIN
${body(refreshStatsSql("OLD.conversation_id"))}
END;
CREATE TRIGGER IF NOT EXISTS "llm_relay_stats_responses_au"
AFTER UPDATE OF "conversation_id", "model", "datetime_utc", "input_tokens", "output_tokens" ON "responses" BEGIN
${body(refreshStatsSql("OLD.conversation_id"))}
${body(refreshStatsSql("NEW.conversation_id"))}
END;
CREATE TRIGGER IF NOT EXISTS "llm_relay_stats_exchanges_bi" BEFORE INSERT ON "llm_relay_exchanges"
WHEN EXISTS (SELECT 1 FROM "llm_relay_exchanges" WHERE "response_id" = NEW."response_id") BEGIN
UPDATE llm_relay_conversation_stats SET cost_usd = cost_usd - coalesce(
  (SELECT o.cost_usd FROM llm_relay_exchanges o WHERE o.response_id = NEW.response_id), 0)
WHERE conversation_id = ${exchangeConversation("NEW")} AND cost_usd IS NOT NULL;
END;
CREATE TRIGGER IF NOT EXISTS "llm_relay_stats_exchanges_ai" AFTER INSERT ON "llm_relay_exchanges"
WHEN EXISTS (SELECT 1 FROM "responses" WHERE "id" = NEW."response_id") BEGIN
${body([EXCHANGE_INSERT_STATS])}
END;
CREATE TRIGGER IF NOT EXISTS "llm_relay_stats_exchanges_au" AFTER UPDATE ON "llm_relay_exchanges" BEGIN
${body(refreshStatsSql(exchangeConversation("NEW")))}
END;
CREATE TRIGGER IF NOT EXISTS "llm_relay_stats_exchanges_ad" AFTER DELETE ON "llm_relay_exchanges" BEGIN
${body(refreshStatsSql(exchangeConversation("OLD")))}
END;
`;

/**
 * The conversation browser's table, triggers and indexes (version 7): the stats table is created and
 * backfilled from the rows already there (one `INSERT … SELECT … GROUP BY`) when the file lacks it.
 */
function ensureBrowseSchema(db: Database): void {
  const hasStats =
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'llm_relay_conversation_stats'`).get() !==
    undefined;
  if (!hasStats) {
    db.exec(STATS_TABLE_DDL);
    db.exec(recomputeStatsSql("1 = 1"));
  }
  db.exec(STATS_TRIGGERS_DDL);
  for (const ddl of BROWSE_INDEXES_DDL) db.exec(ddl);
}

/**
 * Creates our tables, or brings those of an older version up to date.
 * @throws when the file was written by a newer llm-relay (a higher schema version)
 */
export function ensureRelaySchema(db: Database): void {
  db.exec(RELAY_DDL);
  const row = db.prepare(`SELECT max("version") AS v FROM "llm_relay_schema"`).get() as { v: number | null };
  if (row.v === null) {
    db.prepare(`INSERT INTO "llm_relay_schema" ("version") VALUES (?)`).run(RELAY_SCHEMA_VERSION);
  } else if (row.v > RELAY_SCHEMA_VERSION) {
    throw new Error(`logs.db was written by a newer llm-relay (schema version ${row.v} > ${RELAY_SCHEMA_VERSION})`);
  }
  // Files of an older version of our tables get the columns added since.
  const columns = new Set(
    (db.prepare(`SELECT "name" FROM pragma_table_info('llm_relay_exchanges')`).all() as { name: string }[]).map(
      (c) => c.name,
    ),
  );
  for (const [name, type] of ADDED_COLUMNS) {
    if (!columns.has(name)) db.exec(`ALTER TABLE "llm_relay_exchanges" ADD COLUMN "${name}" ${type}`);
  }
  ensureBrowseSchema(db);
  if (row.v !== null && row.v < RELAY_SCHEMA_VERSION)
    db.prepare(`UPDATE "llm_relay_schema" SET "version" = ?`).run(RELAY_SCHEMA_VERSION);
}
