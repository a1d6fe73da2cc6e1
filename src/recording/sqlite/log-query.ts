/**
 * Reading recorded responses back (`llm-relay logs`): newest first, with
 * our exchange metadata where present. Works on a plain `llm` logs.db too
 * (no `llm_relay_exchanges` table), opened read-only so it is left as it was.
 */
import Database from "better-sqlite3";
import type { Database as Db } from "better-sqlite3";
import { toLogRow, type LogQueryRow } from "../log-row.js";
import type { LogQuery, LogRow } from "../types.js";

/**
 * Recent `responses` rows (history rows included), newest id first.
 * @throws when the database has no `responses` table or cannot be read
 */
export function queryResponses(db: Db, query: LogQuery): LogRow[] {
  const limit = query.limit ?? 10;
  const where = query.conversationId !== undefined ? "WHERE r.conversation_id = ?" : "";
  const params: unknown[] = query.conversationId !== undefined ? [query.conversationId] : [];
  // A plain llm logs.db opened read-only has no llm_relay_exchanges table.
  const hasOurs =
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'llm_relay_exchanges'`).get() !== undefined;
  const exchange = hasOurs
    ? "e.status, e.provider, e.http_status, e.ttft_ms, e.usage_estimated, e.cost_usd, e.error, e.request_id"
    : "NULL AS status, NULL AS provider, NULL AS http_status, NULL AS ttft_ms, NULL AS usage_estimated, NULL AS cost_usd, NULL AS error, NULL AS request_id";
  const join = hasOurs ? "LEFT JOIN llm_relay_exchanges e ON e.response_id = r.id" : "";
  const rows = db
    .prepare(
      `SELECT r.id, r.model, r.prompt, r.response, r.conversation_id, r.duration_ms, r.datetime_utc,
              r.input_tokens, r.output_tokens, r.resolved_model, ${exchange}
         FROM responses r ${join}
         ${where} ORDER BY r.id DESC LIMIT ?`,
    )
    .all(...params, limit) as LogQueryRow[];
  return rows.map(toLogRow);
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
