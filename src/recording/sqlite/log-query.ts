/**
 * Reading recorded exchanges back (`llm-relay logs`): newest first, with
 * our exchange metadata where present, embedding exchanges included (the
 * SQL is log-query-sql.ts). Works on a plain `llm` logs.db too (no
 * `llm_relay_*` tables), opened read-only so it is left as it was.
 */
import Database from "better-sqlite3";
import type { Database as Db } from "better-sqlite3";
import { logStatement } from "../log-query-sql.js";
import { toLogRow, type LogQueryRow } from "../log-row.js";
import type { LogQuery, LogRow } from "../types.js";

/**
 * The rows `query` selects (history rows and embeddings included unless filtered out), newest id first.
 * @throws when the database has no `responses` table or cannot be read, or (SQLite's error) for a bad FTS5 query
 */
export function queryResponses(db: Db, query: LogQuery): LogRow[] {
  // A plain llm logs.db opened read-only has no llm_relay_exchanges table.
  const hasOurs =
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'llm_relay_exchanges'`).get() !== undefined;
  const { text, params } = logStatement(query, "sqlite", hasOurs);
  return (db.prepare(text).all(...params) as LogQueryRow[]).map(toLogRow);
}

/**
 * Opens `path` read-only, runs {@link queryResponses}, closes it.
 * @throws when the file does not exist or is not a SQLite logs.db
 */
export function readResponses(path: string, query: LogQuery): LogRow[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return queryResponses(db, query);
  } finally {
    db.close();
  }
}
