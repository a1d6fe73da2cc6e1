/**
 * One row of `llm-relay logs` as both stores' queries return it (`responses`
 * ⟕ `llm_relay_exchanges`, or `llm_relay_embeddings`; snake_case columns), and its mapping to
 * {@link LogRow}. The SQLite and PostgreSQL queries differ only in SQL.
 */
import type { LogRow } from "./types.js";

/** The columns the log query selects (log-query-sql.ts). */
export interface LogQueryRow {
  kind: "response" | "embedding";
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
  /** 0/1, or null for rows without our exchange row (history rows, a plain llm file). */
  usage_estimated: number | null;
  cost_usd: number | null;
  error: string | null;
  request_id: string | null;
  tenant_id: string | null;
  protocol: string | null;
  input_count: number | null;
  dimensions: number | null;
}

/** A selected row as a {@link LogRow}. */
export function toLogRow(row: LogQueryRow): LogRow {
  return {
    kind: row.kind,
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
    protocol: row.protocol,
    tenantId: row.tenant_id,
    inputCount: row.input_count,
    dimensions: row.dimensions,
  };
}
