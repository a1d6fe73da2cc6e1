/**
 * Reading recorded responses back from PostgreSQL (`listResponses`, used by
 * `llm-relay logs`): the query of ../sqlite/log-query.ts on the mirrored tables.
 */
import type { Sql } from "postgres";
import { toLogRow, type LogQueryRow } from "../log-row.js";
import type { LogQuery, LogRow } from "../types.js";

/**
 * Recent `responses` rows (history rows included), newest id first, with
 * our exchange metadata where present.
 * @param query `limit` (default 10) and an optional conversation id
 * @throws the driver's error when the tables are missing or the server is unreachable
 */
export async function queryPgResponses(sql: Sql, query: LogQuery): Promise<LogRow[]> {
  const limit = Math.min(query.limit ?? 10, Number.MAX_SAFE_INTEGER);
  const where = query.conversationId !== undefined ? sql`WHERE r.conversation_id = ${query.conversationId}` : sql``;
  const rows = await sql<LogQueryRow[]>`
    SELECT r.id, r.model, r.prompt, r.response, r.conversation_id, r.duration_ms, r.datetime_utc,
           r.input_tokens, r.output_tokens, r.resolved_model,
           e.status, e.provider, e.http_status, e.ttft_ms, e.usage_estimated, e.cost_usd, e.error, e.request_id
      FROM responses r LEFT JOIN llm_relay_exchanges e ON e.response_id = r.id
      ${where}
     ORDER BY r.id DESC LIMIT ${limit}`;
  return rows.map(toLogRow);
}
