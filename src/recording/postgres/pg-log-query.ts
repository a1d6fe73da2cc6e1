/**
 * Reading recorded exchanges back from PostgreSQL (`listResponses`, used by
 * `llm-relay logs`): the statement of ../log-query-sql.ts on the mirrored tables.
 */
import type { Sql } from "postgres";
import { logStatement, numberedPlaceholders } from "../log-query-sql.js";
import { toLogRow, type LogQueryRow } from "../log-row.js";
import type { LogQuery, LogRow } from "../types.js";

/**
 * The rows `query` selects (history rows and embeddings included unless filtered out), newest id first,
 * with our exchange metadata where present.
 * @param query the filters; `limit` defaults to 10
 * @throws the driver's error when the tables are missing or the server is unreachable
 */
export async function queryPgResponses(sql: Sql, query: LogQuery): Promise<LogRow[]> {
  const { text, params } = logStatement(
    { ...query, limit: Math.min(query.limit ?? 10, Number.MAX_SAFE_INTEGER) },
    "postgres",
    true,
  );
  const rows = await sql.unsafe<LogQueryRow[]>(numberedPlaceholders(text), params);
  return rows.map(toLogRow);
}
