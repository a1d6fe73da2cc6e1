/**
 * Reading recorded responses back from PostgreSQL (`listResponses`, used by
 * `llm-relay logs`): the query of ../sqlite/log-query.ts on the mirrored tables.
 */
import type { Sql } from "postgres";
import type { LogQuery, LogRow } from "../types.js";

interface ResponseRow {
  id: string;
  model: string;
  prompt: string | null;
  response: string | null;
  conversation_id: string | null;
  duration_ms: number | null;
  datetime_utc: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  resolved_model: string | null;
  status: string | null;
  provider: string | null;
  http_status: number | null;
  ttft_ms: number | null;
  usage_estimated: number | null;
  cost_usd: number | null;
  error: string | null;
  request_id: string | null;
}

/**
 * Recent `responses` rows (history rows included), newest id first, with
 * our exchange metadata where present.
 * @param query `limit` (default 10) and an optional conversation id
 * @throws the driver's error when the tables are missing or the server is unreachable
 */
export async function queryPgResponses(sql: Sql, query: LogQuery): Promise<LogRow[]> {
  const limit = Math.min(query.limit ?? 10, Number.MAX_SAFE_INTEGER);
  const where = query.conversationId !== undefined ? sql`WHERE r.conversation_id = ${query.conversationId}` : sql``;
  const rows = await sql<ResponseRow[]>`
    SELECT r.id, r.model, r.prompt, r.response, r.conversation_id, r.duration_ms, r.datetime_utc,
           r.input_tokens, r.output_tokens, r.resolved_model,
           e.status, e.provider, e.http_status, e.ttft_ms, e.usage_estimated, e.cost_usd, e.error, e.request_id
      FROM responses r LEFT JOIN llm_relay_exchanges e ON e.response_id = r.id
      ${where}
     ORDER BY r.id DESC LIMIT ${limit}`;
  return rows.map((row) => ({
    id: row.id,
    datetimeUtc: row.datetime_utc ?? "",
    model: row.model,
    resolvedModel: row.resolved_model,
    conversationId: row.conversation_id,
    prompt: row.prompt,
    response: row.response,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    durationMs: row.duration_ms,
    status: row.status,
    provider: row.provider,
    httpStatus: row.http_status,
    ttftMs: row.ttft_ms,
    estimated: row.usage_estimated === null ? null : row.usage_estimated === 1,
    costUsd: row.cost_usd,
    error: row.error,
    requestId: row.request_id,
  }));
}
