/**
 * `llm-relay export`: copies the records of a PostgreSQL store into a new
 * llm-compatible SQLite logs.db, so that `llm logs`, Datasette and
 * `llm-relay logs --db` read them. The file gets SqliteStore's schema
 * (`ensureSchema`: llm 0.32's tables, FTS5 tables and triggers, the
 * `message_tree` view, our tables); rows are copied table by table, parents
 * first, ids kept; llm's insert triggers fill `responses_fts` and
 * `turn_search_fts` as the rows arrive.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { Database as Db } from "better-sqlite3";
import type { PendingQuery, Row, Sql, TransactionSql } from "postgres";

/** A query of the rows of one table, given its column list. */
type Selection = (cols: string) => PendingQuery<(Row & Iterable<Row>)[]>;
import { ensureSchema } from "../sqlite/schema.js";
import { PG_RECORD_TABLES } from "./pg-schema.js";

/** Options of {@link exportToSqlite}. */
export interface ExportOptions {
  /** Only exchanges at or after this llm `datetime_utc` text (e.g. `2026-11-21T09:00:00.000000+00:00`), with the conversations, threads and messages they need. */
  since?: string;
  /** Replace `file` when it exists (default: refuse). */
  overwrite?: boolean;
}

/** Rows copied, per table (tables with no rows are left out). */
export type ExportCounts = Record<string, number>;

/** An export that cannot start (the file exists, the directory is missing). */
export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExportError";
  }
}

/** Rows read from PostgreSQL per round trip. */
const CURSOR_ROWS = 1000;

/**
 * The rows of each table to copy: all of them, or with `since` only those
 * an exchange at or after it needs.
 */
function selections(tx: TransactionSql, since: string | undefined): Record<string, Selection> {
  const all = (table: string, order: string) => (cols: string) =>
    tx.unsafe(`SELECT ${cols} FROM "${table}" ORDER BY ${order}`);
  const out: Record<string, Selection> = {};
  for (const table of PG_RECORD_TABLES) out[table] = all(table, "1");
  out.responses = all("responses", `"id"`);
  out.turns = all("turns", `"id"`);
  out.threads = all("threads", `"datetime_utc", "id"`);
  out.parts = all("parts", `"id"`);
  out.turn_search = all("turn_search", `"id"`);
  if (since === undefined) return out;

  const responses = `SELECT "id" FROM "responses" WHERE "datetime_utc" >= $1`;
  const turns = `SELECT "id" FROM "turns" WHERE "datetime_utc" >= $1`;
  const conversations = `SELECT "conversation_id" FROM "responses" WHERE "datetime_utc" >= $1`;
  const threads = `SELECT "id" FROM "threads" WHERE "id" IN (${conversations}) OR "id" IN (SELECT "thread_id" FROM "turns" WHERE "datetime_utc" >= $1)`;
  // Every message the selected turns and threads point at, and their ancestors.
  const chain = `WITH RECURSIVE "chain"("hash") AS (
      SELECT "tip_message_hash" FROM "turns" WHERE "datetime_utc" >= $1 AND "tip_message_hash" IS NOT NULL
      UNION SELECT "parent_message_hash" FROM "turns" WHERE "datetime_utc" >= $1 AND "parent_message_hash" IS NOT NULL
      UNION SELECT "tip_message_hash" FROM "threads" WHERE "id" IN (${threads}) AND "tip_message_hash" IS NOT NULL
      UNION SELECT m."parent_hash" FROM "messages" m JOIN "chain" c ON m."hash" = c."hash" WHERE m."parent_hash" IS NOT NULL)`;
  const where =
    (table: string, condition: string, order: string, prefix = "") =>
    (cols: string) =>
      tx.unsafe(`${prefix} SELECT ${cols} FROM "${table}" WHERE ${condition} ORDER BY ${order}`, [since]);
  out.responses = where("responses", `"datetime_utc" >= $1`, `"id"`);
  out.conversations = where("conversations", `"id" IN (${conversations})`, `"id"`);
  out.threads = where("threads", `"id" IN (${threads})`, `"datetime_utc", "id"`);
  out.turns = where("turns", `"datetime_utc" >= $1`, `"id"`);
  out.messages = where("messages", `"hash" IN (SELECT "hash" FROM "chain")`, `"hash"`, chain);
  out.parts = where("parts", `"message_hash" IN (SELECT "hash" FROM "chain")`, `"id"`, chain);
  out.turn_search = where("turn_search", `"turn_id" IN (${turns})`, `"id"`);
  out.llm_relay_exchanges = where("llm_relay_exchanges", `"response_id" IN (${responses})`, `"response_id"`);
  out.llm_relay_attempts = where("llm_relay_attempts", `"response_id" IN (${responses})`, `"response_id", "attempt"`);
  out.llm_relay_embeddings = where("llm_relay_embeddings", `"datetime_utc" >= $1`, `"id"`);
  // The legacy tool rows of the selected responses and the tools of the selected turns (every `tools` row is copied).
  for (const table of ["tool_responses", "tool_calls", "tool_results"])
    out[table] = where(table, `"response_id" IN (${responses})`, "1");
  out.turn_tools = where("turn_tools", `"turn_id" IN (${turns})`, "1");
  return out;
}

/** A PostgreSQL value as SQLite stores it: bigint ids (strings from the driver) as integers. */
function sqliteValue(value: unknown, integer: boolean): unknown {
  if (integer && typeof value === "string" && /^-?\d+$/.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : BigInt(value);
  }
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}

/** Columns of `table` in the SQLite file, with whether each is declared INTEGER. */
function sqliteColumns(db: Db, table: string): { name: string; integer: boolean }[] {
  return (db.prepare(`SELECT name, type FROM pragma_table_info(?)`).all(table) as { name: string; type: string }[]).map(
    (c) => ({
      name: c.name,
      integer: c.type.toUpperCase() === "INTEGER",
    }),
  );
}

/**
 * Writes the records of the database `sql` points at into a new SQLite
 * file at `file`, from one consistent snapshot (a read-only repeatable-read
 * transaction). The file is written under a temporary name and renamed
 * into place once complete.
 * @returns the rows copied per table
 * @throws ExportError when `file` exists (and `overwrite` is not set);
 *   the driver's error when PostgreSQL cannot be read (the partial file is removed)
 */
export async function exportToSqlite(sql: Sql, file: string, options: ExportOptions = {}): Promise<ExportCounts> {
  const target = path.resolve(file);
  if (fs.existsSync(target) && !options.overwrite)
    throw new ExportError(`${target} exists; choose another file (or --force to replace it)`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const temp = `${target}.partial-${process.pid}`;
  fs.rmSync(temp, { force: true });
  const db = new Database(temp);
  const counts: ExportCounts = {};
  try {
    db.pragma("foreign_keys = OFF");
    ensureSchema(db);
    await sql.begin("isolation level repeatable read read only", async (tx) => {
      const select = selections(tx, options.since);
      for (const table of PG_RECORD_TABLES) {
        const columns = sqliteColumns(db, table);
        const list = columns.map((c) => `"${c.name}"`).join(", ");
        const insert = db.prepare(`INSERT INTO "${table}" (${list}) VALUES (${columns.map(() => "?").join(", ")})`);
        const insertMany = db.transaction((rows: readonly Row[]) => {
          for (const row of rows) insert.run(...columns.map((c) => sqliteValue(row[c.name], c.integer)));
        });
        let n = 0;
        for await (const rows of select[table]!(list).cursor(CURSOR_ROWS)) {
          insertMany(rows);
          n += rows.length;
        }
        if (n > 0) counts[table] = n;
      }
    });
    db.close();
    fs.renameSync(temp, target);
    return counts;
  } catch (error) {
    if (db.open) db.close();
    fs.rmSync(temp, { force: true });
    throw error;
  }
}
