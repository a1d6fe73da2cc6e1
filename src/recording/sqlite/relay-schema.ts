/**
 * llm-relay's own tables in the logs.db, next to llm's: their DDL, their
 * version (`llm_relay_schema`) and the upgrade of a file an older llm-relay
 * wrote. Called by `ensureSchema`, inside its transaction.
 */
import type { Database } from "better-sqlite3";

/** Version of llm-relay's own tables, kept in `llm_relay_schema`. */
export const RELAY_SCHEMA_VERSION = 6;

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
  "tool_convention" TEXT);
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
  if (row.v !== null && row.v < RELAY_SCHEMA_VERSION)
    db.prepare(`UPDATE "llm_relay_schema" SET "version" = ?`).run(RELAY_SCHEMA_VERSION);
}
