/**
 * The row of `llm_relay_embeddings` for one embedding exchange, shared by
 * the SQLite and PostgreSQL stores (same columns on both; DDL in
 * sqlite/schema.ts and postgres/pg-schema.ts). `datetime_utc` is in llm's
 * `responses.datetime_utc` format; `usage_estimated` is 0/1.
 */
import { llmDatetime, startMs } from "./llm-format.js";
import type { EmbeddingExchange } from "./types.js";

/** The columns of `llm_relay_embeddings`, in table order. */
export const EMBEDDING_COLUMNS = [
  "id",
  "request_id",
  "datetime_utc",
  "model",
  "provider",
  "deployment",
  "upstream_model",
  "input_count",
  "input_tokens",
  "usage_estimated",
  "dimensions",
  "http_status",
  "status",
  "error",
  "duration_ms",
  "cost_usd",
  "tenant_id",
  "key_id",
] as const;

/** One `llm_relay_embeddings` row, by column name. */
export type EmbeddingRow = Record<(typeof EMBEDDING_COLUMNS)[number], string | number | null>;

/** The row of `record`. */
export function embeddingRow(record: EmbeddingExchange): EmbeddingRow {
  return {
    id: record.id,
    request_id: record.requestId,
    datetime_utc: llmDatetime(startMs(record)),
    model: record.requestedModel,
    provider: record.provider,
    deployment: record.deployment,
    upstream_model: record.upstreamModel,
    input_count: record.inputCount,
    input_tokens: record.inputTokens,
    usage_estimated: record.usageEstimated ? 1 : 0,
    dimensions: record.dimensions,
    http_status: record.httpStatus,
    status: record.status,
    error: record.error,
    duration_ms: record.durationMs,
    cost_usd: record.costUsd,
    tenant_id: record.tenantId,
    key_id: record.keyId,
  };
}

/** `INSERT OR REPLACE` of one row in SQLite, with positional parameters in {@link EMBEDDING_COLUMNS} order. */
export const SQLITE_INSERT_EMBEDDING = `INSERT OR REPLACE INTO "llm_relay_embeddings" (${EMBEDDING_COLUMNS.map((c) => `"${c}"`).join(", ")}) VALUES (${EMBEDDING_COLUMNS.map(() => "?").join(", ")})`;
