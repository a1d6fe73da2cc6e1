/**
 * The logs.db schema: every table, index, FTS5 table, trigger and view
 * that `llm` 0.32 creates (see docs/llm-logs-db.md), with all 30 names in
 * `_llm_migrations` so llm runs none of its migrations on our file, plus
 * llm-relay's own tables (relay-schema.ts: `llm_relay_exchanges`, `llm_relay_attempts`,
 * `llm_relay_embeddings`, `llm_relay_schema`).
 *
 * The statements are ours, written from the schema llm produces; column
 * order and types are the same so llm, Datasette and plain SQL read our
 * rows as llm's own.
 */
import type { Database } from "better-sqlite3";
import { threadDatetime } from "../llm-format.js";
import { ensureRelaySchema } from "./relay-schema.js";

/** Every migration name of llm 0.32, in the order llm applies them. */
export const LLM_MIGRATIONS: readonly string[] = [
  "m001_initial",
  "m002_id_primary_key",
  "m003_chat_id_foreign_key",
  "m004_column_order",
  "m004_drop_provider",
  "m005_debug",
  "m006_new_logs_table",
  "m007_finish_logs_table",
  "m008_reply_to_id_foreign_key",
  "m008_fix_column_order_in_logs",
  "m009_delete_logs_table_if_empty",
  "m010_create_new_log_tables",
  "m011_fts_for_responses",
  "m012_attachments_tables",
  "m013_usage",
  "m014_schemas",
  "m015_fragments_tables",
  "m016_fragments_table_pks",
  "m017_tools_tables",
  "m017_tools_plugin",
  "m018_tool_instances",
  "m019_resolved_model",
  "m020_tool_results_attachments",
  "m021_tool_results_exception",
  "m022_response_reasoning",
  "m023_message_store",
  "m024_tool_instance_references",
  "m025_turn_tools_instance_backfill",
  "m026_message_tree_view",
  "m027_turns_response_json",
];

/** An external-content FTS5 table over (prompt, response) and the three triggers that keep it in step. */
function ftsDdl(table: string): string {
  const fts = `${table}_fts`;
  const cols = `"prompt", "response"`;
  const newVals = `new.rowid, new."prompt", new."response"`;
  const oldVals = `'delete', old.rowid, old."prompt", old."response"`;
  // `content="<table>"` with double quotes: sqlite-utils' detect_fts() looks for that spelling.
  return `
CREATE VIRTUAL TABLE IF NOT EXISTS "${fts}" USING FTS5 (${cols}, content="${table}");
CREATE TRIGGER IF NOT EXISTS "${table}_ai" AFTER INSERT ON "${table}" BEGIN
  INSERT INTO "${fts}" (rowid, ${cols}) VALUES (${newVals});
END;
CREATE TRIGGER IF NOT EXISTS "${table}_ad" AFTER DELETE ON "${table}" BEGIN
  INSERT INTO "${fts}" ("${fts}", rowid, ${cols}) VALUES (${oldVals});
END;
CREATE TRIGGER IF NOT EXISTS "${table}_au" AFTER UPDATE ON "${table}" BEGIN
  INSERT INTO "${fts}" ("${fts}", rowid, ${cols}) VALUES (${oldVals});
  INSERT INTO "${fts}" (rowid, ${cols}) VALUES (${newVals});
END;`;
}

/** Tables of llm ≤ 0.31 plus m022's `responses.reasoning` (migrations m001–m022). */
const LEGACY_DDL = `
CREATE TABLE IF NOT EXISTS "conversations" ("id" TEXT PRIMARY KEY, "name" TEXT, "model" TEXT);
CREATE TABLE IF NOT EXISTS "attachments" (
  "id" TEXT PRIMARY KEY, "type" TEXT, "path" TEXT, "url" TEXT, "content" BLOB);
CREATE TABLE IF NOT EXISTS "prompt_attachments" (
  "response_id" TEXT REFERENCES "responses"("id"),
  "attachment_id" TEXT REFERENCES "attachments"("id"),
  "order" INTEGER,
  PRIMARY KEY ("response_id", "attachment_id"));
CREATE TABLE IF NOT EXISTS "schemas" ("id" TEXT PRIMARY KEY, "content" TEXT);
CREATE TABLE IF NOT EXISTS "responses" (
  "id" TEXT PRIMARY KEY,
  "model" TEXT,
  "prompt" TEXT,
  "system" TEXT,
  "prompt_json" TEXT,
  "options_json" TEXT,
  "response" TEXT,
  "response_json" TEXT,
  "conversation_id" TEXT REFERENCES "conversations"("id"),
  "duration_ms" INTEGER,
  "datetime_utc" TEXT,
  "input_tokens" INTEGER,
  "output_tokens" INTEGER,
  "token_details" TEXT,
  "schema_id" TEXT REFERENCES "schemas"("id"),
  "resolved_model" TEXT,
  "reasoning" TEXT);
${ftsDdl("responses")}
CREATE TABLE IF NOT EXISTS "fragments" (
  "id" INTEGER PRIMARY KEY, "hash" TEXT, "content" TEXT, "datetime_utc" TEXT, "source" TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS "idx_fragments_hash" ON "fragments" ("hash");
CREATE TABLE IF NOT EXISTS "fragment_aliases" (
  "alias" TEXT PRIMARY KEY, "fragment_id" INTEGER REFERENCES "fragments"("id"));
CREATE TABLE IF NOT EXISTS "prompt_fragments" (
  "response_id" TEXT REFERENCES "responses"("id"),
  "fragment_id" INTEGER REFERENCES "fragments"("id"),
  "order" INTEGER,
  PRIMARY KEY ("response_id", "fragment_id", "order"));
CREATE TABLE IF NOT EXISTS "system_fragments" (
  "response_id" TEXT REFERENCES "responses"("id"),
  "fragment_id" INTEGER REFERENCES "fragments"("id"),
  "order" INTEGER,
  PRIMARY KEY ("response_id", "fragment_id", "order"));
CREATE TABLE IF NOT EXISTS "tools" (
  "id" INTEGER PRIMARY KEY, "hash" TEXT, "name" TEXT, "description" TEXT, "input_schema" TEXT,
  "plugin" TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS "idx_tools_hash" ON "tools" ("hash");
CREATE TABLE IF NOT EXISTS "tool_responses" (
  "tool_id" INTEGER REFERENCES "tools"("id"),
  "response_id" TEXT REFERENCES "responses"("id"),
  PRIMARY KEY ("tool_id", "response_id"));
CREATE TABLE IF NOT EXISTS "tool_calls" (
  "id" INTEGER PRIMARY KEY,
  "response_id" TEXT REFERENCES "responses"("id"),
  "tool_id" INTEGER REFERENCES "tools"("id"),
  "name" TEXT, "arguments" TEXT, "tool_call_id" TEXT);
CREATE TABLE IF NOT EXISTS "tool_instances" (
  "id" INTEGER PRIMARY KEY, "plugin" TEXT, "name" TEXT, "arguments" TEXT);
CREATE TABLE IF NOT EXISTS "tool_results" (
  "id" INTEGER PRIMARY KEY,
  "response_id" TEXT REFERENCES "responses"("id"),
  "tool_id" INTEGER REFERENCES "tools"("id"),
  "name" TEXT, "output" TEXT, "tool_call_id" TEXT,
  "instance_id" INTEGER REFERENCES "tool_instances"("id"),
  "exception" TEXT);
CREATE TABLE IF NOT EXISTS "tool_results_attachments" (
  "tool_result_id" INTEGER REFERENCES "tool_results"("id"),
  "attachment_id" TEXT REFERENCES "attachments"("id"),
  "order" INTEGER,
  PRIMARY KEY ("tool_result_id", "attachment_id"));
`;

/** llm 0.32's message store (m023, with m024's instance_id columns and m027's turns.response_json). */
const MESSAGE_STORE_DDL = `
CREATE TABLE IF NOT EXISTS "messages" (
  "hash" TEXT PRIMARY KEY,
  "parent_hash" TEXT REFERENCES "messages"("hash"),
  "role" TEXT,
  "provider_metadata" TEXT);
CREATE INDEX IF NOT EXISTS "idx_messages_parent_hash" ON "messages" ("parent_hash");
CREATE TABLE IF NOT EXISTS "parts" (
  "id" INTEGER PRIMARY KEY,
  "message_hash" TEXT REFERENCES "messages"("hash"),
  "position" INTEGER, "type" TEXT, "tool_name" TEXT, "text" TEXT, "payload" TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS "idx_parts_message_hash_position" ON "parts" ("message_hash", "position");
CREATE TABLE IF NOT EXISTS "part_attachments" (
  "part_id" INTEGER REFERENCES "parts"("id"),
  "attachment_id" TEXT REFERENCES "attachments"("id"),
  "order" INTEGER,
  PRIMARY KEY ("part_id", "attachment_id", "order"));
CREATE TABLE IF NOT EXISTS "part_fragments" (
  "part_id" INTEGER REFERENCES "parts"("id"),
  "fragment_id" INTEGER REFERENCES "fragments"("id"),
  "order" INTEGER,
  PRIMARY KEY ("part_id", "fragment_id", "order"));
CREATE INDEX IF NOT EXISTS "idx_part_fragments_fragment_id" ON "part_fragments" ("fragment_id");
CREATE TABLE IF NOT EXISTS "threads" (
  "id" TEXT PRIMARY KEY,
  "name" TEXT,
  "tip_message_hash" TEXT REFERENCES "messages"("hash"),
  "forked_from" TEXT REFERENCES "threads"("id"),
  "datetime_utc" TEXT);
CREATE TABLE IF NOT EXISTS "turns" (
  "id" TEXT PRIMARY KEY,
  "thread_id" TEXT REFERENCES "threads"("id"),
  "parent_message_hash" TEXT REFERENCES "messages"("hash"),
  "tip_message_hash" TEXT REFERENCES "messages"("hash"),
  "model" TEXT,
  "resolved_model" TEXT,
  "options_json" TEXT,
  "schema_id" TEXT REFERENCES "schemas"("id"),
  "input_tokens" INTEGER,
  "output_tokens" INTEGER,
  "token_details" TEXT,
  "duration_ms" INTEGER,
  "datetime_utc" TEXT,
  "response_json" TEXT);
CREATE INDEX IF NOT EXISTS "idx_turns_thread_id" ON "turns" ("thread_id");
CREATE TABLE IF NOT EXISTS "turn_fragments" (
  "turn_id" TEXT REFERENCES "turns"("id"),
  "fragment_id" INTEGER REFERENCES "fragments"("id"),
  "order" INTEGER,
  "kind" TEXT,
  PRIMARY KEY ("turn_id", "fragment_id", "kind", "order"));
CREATE INDEX IF NOT EXISTS "idx_turn_fragments_fragment_id" ON "turn_fragments" ("fragment_id");
CREATE TABLE IF NOT EXISTS "turn_search" (
  "id" INTEGER PRIMARY KEY,
  "turn_id" TEXT REFERENCES "turns"("id"),
  "prompt" TEXT,
  "response" TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS "idx_turn_search_turn_id" ON "turn_search" ("turn_id");
${ftsDdl("turn_search")}
CREATE TABLE IF NOT EXISTS "turn_tools" (
  "turn_id" TEXT REFERENCES "turns"("id"),
  "tool_id" INTEGER REFERENCES "tools"("id"),
  "instance_id" INTEGER REFERENCES "tool_instances"("id"),
  PRIMARY KEY ("turn_id", "tool_id"));
CREATE TABLE IF NOT EXISTS "tool_instantiations" (
  "turn_id" TEXT REFERENCES "turns"("id"),
  "tool_call_id" TEXT,
  "instance_id" INTEGER REFERENCES "tool_instances"("id"),
  PRIMARY KEY ("turn_id", "tool_call_id"));
`;

/** m026: an indented text rendering of every message tree. */
const MESSAGE_TREE_VIEW_DDL = `
CREATE VIEW IF NOT EXISTS "message_tree" AS
WITH RECURSIVE msg AS (
  SELECT m.hash, m.parent_hash, m.role, m.rowid AS rid,
    replace(coalesce(
      nullif(p.text, ''),
      (SELECT f.content FROM part_fragments pf JOIN fragments f ON f.id = pf.fragment_id
        WHERE pf.part_id = p.id ORDER BY pf."order" LIMIT 1),
      '[' || coalesce(p.type, 'empty') || ']'
    ), char(10), ' ') AS text,
    (SELECT group_concat(p2.tool_name, ', ') FROM parts p2
      WHERE p2.message_hash = m.hash AND p2.type = 'tool_result' AND p2.tool_name IS NOT NULL) AS tools
  FROM messages m
  LEFT JOIN parts p ON p.message_hash = m.hash AND p.position = 0
),
tree AS (
  SELECT hash, text, tools, 0 AS depth, printf('%012d', rid) AS path, hash AS root_hash
  FROM msg WHERE parent_hash IS NULL
  UNION ALL
  SELECT msg.hash, msg.text, msg.tools, t.depth + 1, t.path || '/' || printf('%012d', msg.rid), t.root_hash
  FROM msg JOIN tree t ON msg.parent_hash = t.hash
),
turn_chain AS (
  SELECT t.id AS turn_id, t.datetime_utc, m.hash, m.parent_hash
  FROM turns t JOIN messages m ON m.hash = t.tip_message_hash
  UNION ALL
  SELECT tc.turn_id, tc.datetime_utc, m.hash, m.parent_hash
  FROM turn_chain tc JOIN messages m ON m.hash = tc.parent_hash
)
SELECT
  t.root_hash,
  strftime('%Y-%m-%d %H:%M:%S', (SELECT min(tc.datetime_utc) FROM turn_chain tc WHERE tc.hash = t.hash)) AS datetime,
  replace(hex(zeroblob(t.depth)), '00', '    ') || substr(t.text, 1, 60) AS message,
  coalesce(t.tools, '') AS tools,
  t.hash AS message_hash,
  t.path
FROM tree t
ORDER BY t.path;
`;

/** Migrations this module can apply to a file llm ≤ 0.31 (or an early 0.32) left behind. */
const UPGRADE_STARTS = new Set([
  "m022_response_reasoning",
  "m023_message_store",
  "m026_message_tree_view",
  "m027_turns_response_json",
]);

function tableExists(db: Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

function hasColumn(db: Database, table: string, column: string): boolean {
  const cols = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[];
  return cols.some((c) => c.name === column);
}

function recordMigrations(db: Database, names: readonly string[]): void {
  const insert = db.prepare(`INSERT OR IGNORE INTO "_llm_migrations" ("name", "applied_at") VALUES (?, ?)`);
  const now = threadDatetime(Date.now());
  for (const name of names) insert.run(name, now);
}

/** Brings an llm-written file whose migrations stop before the end up to llm 0.32. */
function upgradeLlmSchema(db: Database, missing: readonly string[]): void {
  const expected = LLM_MIGRATIONS.slice(LLM_MIGRATIONS.length - missing.length);
  const isSuffix = expected.every((name, i) => name === missing[i]);
  if (!isSuffix || !UPGRADE_STARTS.has(missing[0] ?? "")) {
    throw new Error(
      `logs.db lacks llm migrations llm-relay cannot apply: ${missing.join(", ")}; ` +
        "open it once with llm 0.32 (e.g. `llm logs -n 1`) to migrate it, or use a new file",
    );
  }
  const todo = new Set(missing);
  if (todo.has("m022_response_reasoning") && !hasColumn(db, "responses", "reasoning")) {
    db.exec(`ALTER TABLE "responses" ADD COLUMN "reasoning" TEXT`);
  }
  if (todo.has("m023_message_store")) db.exec(MESSAGE_STORE_DDL);
  if (todo.has("m026_message_tree_view")) db.exec(MESSAGE_TREE_VIEW_DDL);
  if (todo.has("m027_turns_response_json") && !hasColumn(db, "turns", "response_json")) {
    db.exec(`ALTER TABLE "turns" ADD COLUMN "response_json" TEXT`);
  }
  recordMigrations(db, missing);
}

/**
 * Creates or completes the schema, in one transaction. Idempotent:
 * - a new (or llm-free) file gets llm 0.32's full schema and all 30
 *   migration names;
 * - a file llm 0.32 (or llm-relay) wrote is left as it is;
 * - a file llm 0.31 wrote gets what m022–m027 add (the message store, the
 *   view, two columns), with those names recorded.
 * llm-relay's own tables are then created if missing.
 * @throws Error naming the missing migrations when the file's llm schema is
 *   older than llm-relay can complete (or has llm tables but no
 *   `_llm_migrations`), or when `llm_relay_schema` is from a newer llm-relay.
 */
export function ensureSchema(db: Database): void {
  db.transaction(() => {
    if (!tableExists(db, "_llm_migrations")) {
      for (const legacy of ["responses", "conversations", "logs", "log", "messages"]) {
        if (tableExists(db, legacy)) {
          throw new Error(`logs.db has a "${legacy}" table but no _llm_migrations table; refusing to touch it`);
        }
      }
      db.exec(`CREATE TABLE "_llm_migrations" ("name" TEXT PRIMARY KEY, "applied_at" TEXT);`);
      db.exec(LEGACY_DDL);
      db.exec(MESSAGE_STORE_DDL);
      db.exec(MESSAGE_TREE_VIEW_DDL);
      recordMigrations(db, LLM_MIGRATIONS);
    } else {
      const applied = new Set(
        (db.prepare(`SELECT "name" FROM "_llm_migrations"`).all() as { name: string }[]).map((r) => r.name),
      );
      const missing = LLM_MIGRATIONS.filter((name) => !applied.has(name));
      if (missing.length > 0) upgradeLlmSchema(db, missing);
    }
    ensureRelaySchema(db);
  })();
}
