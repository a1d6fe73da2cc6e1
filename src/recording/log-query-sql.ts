/**
 * The SQL of `llm-relay logs` ({@link LogQuery}), one text for both stores:
 * `responses` ⟕ `llm_relay_exchanges`, and the embedding exchanges of
 * `llm_relay_embeddings` (which have no `responses` row), as one list newest
 * id first (both ids are lowercase ULIDs, so they sort by time together).
 * Parameters are `?`; PostgreSQL's are numbered by {@link numberedPlaceholders}.
 * Only the full-text condition differs: SQLite's FTS5 `responses_fts`,
 * PostgreSQL's `to_tsvector('simple', …)` (the expression of its GIN index, pg-schema.ts).
 */
import type { LogQuery } from "./types.js";

/** Which database the text is for. */
export type LogDialect = "sqlite" | "postgres";

/** A statement and its parameters, in order. */
export interface LogStatement {
  text: string;
  params: (string | number)[];
}

/** The exchange columns, where a plain llm logs.db has no `llm_relay_exchanges`: a table of no rows. */
const NO_EXCHANGES = `(SELECT NULL AS response_id, NULL AS status, NULL AS provider, NULL AS http_status, NULL AS ttft_ms,
  NULL AS usage_estimated, NULL AS cost_usd, NULL AS error, NULL AS request_id, NULL AS tenant_id, NULL AS protocol WHERE 1 = 0)`;

/**
 * The statement listing what `query` selects.
 * @param hasRelayTables false for a plain llm logs.db (no `llm_relay_*` tables): responses only, without our metadata
 */
export function logStatement(query: LogQuery, dialect: LogDialect, hasRelayTables: boolean): LogStatement {
  const responses = responsesPart(query, dialect, hasRelayTables);
  const embeddings = hasRelayTables ? embeddingsPart(query) : null;
  const parts = embeddings ? [responses, embeddings] : [responses];
  const union = parts.map((part) => part.text).join("\nUNION ALL\n");
  return {
    text: `SELECT * FROM (${union}) AS listed ORDER BY id DESC LIMIT ?`,
    params: [...parts.flatMap((part) => part.params), query.limit ?? 10],
  };
}

/** `text` with its `?` placeholders numbered `$1`, `$2`, … (PostgreSQL); the text has no other `?`. */
export function numberedPlaceholders(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

function responsesPart(query: LogQuery, dialect: LogDialect, hasRelayTables: boolean): LogStatement {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.conversationId !== undefined) {
    where.push("r.conversation_id = ?");
    params.push(query.conversationId);
  }
  if (query.model !== undefined) {
    where.push("(r.model = ? OR r.resolved_model = ?)");
    params.push(query.model, query.model);
  }
  if (query.status === "history") where.push("e.response_id IS NULL");
  else if (query.status !== undefined) {
    where.push("e.status = ?");
    params.push(query.status);
  }
  if (query.httpStatus !== undefined) {
    where.push("e.http_status = ?");
    params.push(query.httpStatus);
  }
  if (query.search !== undefined) {
    if (dialect === "sqlite") {
      where.push("r.rowid IN (SELECT rowid FROM responses_fts WHERE responses_fts MATCH ?)");
      params.push(query.search.fts5);
    } else {
      where.push(
        `to_tsvector('simple', coalesce(r.prompt, '') || ' ' || coalesce(r.response, '')) @@ plainto_tsquery('simple', ?)`,
      );
      params.push(query.search.text);
    }
  }
  addTimeBounds(where, params, "r", query);
  if (query.tenant !== undefined) {
    where.push("e.response_id IS NOT NULL AND coalesce(e.tenant_id, 'default') = ?");
    params.push(query.tenant);
  }
  if (query.protocol !== undefined) {
    where.push("e.response_id IS NOT NULL AND coalesce(e.protocol, 'chat') = ?");
    params.push(query.protocol);
  }
  const exchanges = hasRelayTables ? "llm_relay_exchanges" : NO_EXCHANGES;
  return {
    text: `SELECT 'response' AS kind, r.id, r.model, r.prompt, r.response, r.conversation_id, r.duration_ms,
        r.datetime_utc, r.input_tokens, r.output_tokens, r.resolved_model, e.status, e.provider, e.http_status,
        e.ttft_ms, e.usage_estimated, e.cost_usd, e.error, e.request_id, e.tenant_id,
        CASE WHEN e.response_id IS NULL THEN NULL ELSE coalesce(e.protocol, 'chat') END AS protocol,
        NULL AS input_count, NULL AS dimensions
      FROM responses r LEFT JOIN ${exchanges} e ON e.response_id = r.id
      ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}`,
    params,
  };
}

/** The embedding exchanges `query` selects, or null when a filter excludes them all (they have no text, conversation or protocol). */
function embeddingsPart(query: LogQuery): LogStatement | null {
  if (
    query.conversationId !== undefined ||
    query.search !== undefined ||
    query.protocol !== undefined ||
    query.status === "history"
  )
    return null;
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.model !== undefined) {
    where.push("(m.model = ? OR m.upstream_model = ?)");
    params.push(query.model, query.model);
  }
  if (query.status !== undefined) {
    where.push("m.status = ?");
    params.push(query.status);
  }
  if (query.httpStatus !== undefined) {
    where.push("m.http_status = ?");
    params.push(query.httpStatus);
  }
  addTimeBounds(where, params, "m", query);
  if (query.tenant !== undefined) {
    where.push("coalesce(m.tenant_id, 'default') = ?");
    params.push(query.tenant);
  }
  return {
    text: `SELECT 'embedding' AS kind, m.id, m.model, NULL AS prompt, NULL AS response, NULL AS conversation_id,
        m.duration_ms, m.datetime_utc, m.input_tokens, NULL AS output_tokens, m.upstream_model AS resolved_model,
        m.status, m.provider, m.http_status, NULL AS ttft_ms, m.usage_estimated, m.cost_usd, m.error, m.request_id,
        m.tenant_id, NULL AS protocol, m.input_count, m.dimensions
      FROM llm_relay_embeddings m
      ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}`,
    params,
  };
}

/** `datetime_utc` bounds: llm's format sorts as text in time order, on both databases. */
function addTimeBounds(where: string[], params: (string | number)[], alias: string, query: LogQuery): void {
  if (query.since !== undefined) {
    where.push(`${alias}.datetime_utc >= ?`);
    params.push(query.since);
  }
  if (query.until !== undefined) {
    where.push(`${alias}.datetime_utc < ?`);
    params.push(query.until);
  }
}
