/**
 * The SQL that keeps the conversation browser's summary tables true, one text for SQLite and
 * PostgreSQL where the two agree (https://sqlite.org/lang_upsert.html,
 * https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT):
 *
 * - `llm_relay_conversation_stats`: one row per conversation (turns, tokens, cost, first/last
 *   response, and the model, provider, protocol, client, tenant, key and status of its last
 *   exchange), kept by triggers on `responses` and `llm_relay_exchanges`, so every writer (both
 *   record stores, bench's rehome, llm itself) keeps it right. The record stores insert the two rows
 *   of an exchange in either order (SQLite: the exchange row first, its `responses` row at the end of
 *   the batch; PostgreSQL: the other way round): whichever comes second brings the pair together,
 *   so an exchange's cost is added once.
 * - `llm_relay_usage_daily`: the usage ledger (`llm_relay_usage`) rolled up per UTC day, tenant,
 *   key (`''`: none) and model, kept by a trigger on the ledger's inserts.
 *
 * The upserts name their target table rather than an alias (`INSERT INTO t AS s`): SQLite fails to
 * re-parse an aliased upsert in a trigger when a later `ALTER TABLE … DROP COLUMN` checks the schema.
 *
 * "Last" is the conversation's greatest `responses.id` (lowercase ULIDs sort as time).
 */

/** The columns of `llm_relay_conversation_stats`, in table order. */
export const STATS_COLUMNS = [
  "conversation_id",
  "first_response_id",
  "last_response_id",
  "first_utc",
  "last_utc",
  "turns",
  "input_tokens",
  "output_tokens",
  "cost_usd",
  "model",
  "provider",
  "protocol",
  "client",
  "tenant_id",
  "key_id",
  "last_status",
] as const;

/** Columns of the stats row taken from the last exchange (with `model` from its `responses` row). */
const LAST_COLUMNS = ["model", "provider", "protocol", "client", "tenant_id", "key_id", "last_status"] as const;

/** The filter columns of the Conversations page: each has an index `(<col>, last_response_id)`. */
export const STATS_FILTER_COLUMNS = ["model", "last_status", "provider", "protocol", "tenant_id", "key_id"] as const;

/** The filter columns of the Exchanges page on `llm_relay_exchanges`: each has an index `(<col>, response_id)`. */
export const EXCHANGE_FILTER_COLUMNS = ["status", "provider", "protocol", "tenant_id", "key_id"] as const;

/** An exchange row `x` (possibly absent: LEFT JOIN) as the stats row's status and protocol. */
const X_STATUS = `CASE WHEN x.response_id IS NULL THEN 'history' ELSE coalesce(x.status, 'ok') END`;
const X_PROTOCOL = `CASE WHEN x.response_id IS NULL THEN NULL ELSE coalesce(x.protocol, 'chat') END`;

/**
 * Recomputes the stats rows of the conversations `where` selects from their `responses` rows
 * (`r`), in one `INSERT … SELECT … GROUP BY`; the rows must not exist (delete them first).
 * @param where a condition on `r`, e.g. `r.conversation_id = OLD.conversation_id`; `true` for all (the backfill)
 */
export function recomputeStatsSql(where: string): string {
  return `INSERT INTO llm_relay_conversation_stats (${STATS_COLUMNS.join(", ")})
SELECT a.cid, a.first_id, a.last_id, a.first_utc, a.last_utc, a.turns, a.inp, a.outp, a.cost,
  l.model, x.provider, ${X_PROTOCOL}, x.client, x.tenant_id, x.key_id, ${X_STATUS}
FROM (SELECT r.conversation_id AS cid, min(r.id) AS first_id, max(r.id) AS last_id,
    min(r.datetime_utc) AS first_utc, max(r.datetime_utc) AS last_utc, count(*) AS turns,
    sum(coalesce(r.input_tokens, 0)) AS inp, sum(coalesce(r.output_tokens, 0)) AS outp, sum(e.cost_usd) AS cost
  FROM responses r LEFT JOIN llm_relay_exchanges e ON e.response_id = r.id
  WHERE r.conversation_id IS NOT NULL AND (${where})
  GROUP BY r.conversation_id) AS a
JOIN responses l ON l.id = a.last_id
LEFT JOIN llm_relay_exchanges x ON x.response_id = a.last_id`;
}

/** Deletes and recomputes the stats row of conversation `id` (an SQL expression, e.g. `OLD.conversation_id`). */
export function refreshStatsSql(id: string): string[] {
  return [
    `DELETE FROM llm_relay_conversation_stats WHERE conversation_id = ${id}`,
    recomputeStatsSql(`r.conversation_id = ${id}`),
  ];
}

/** `llm_relay_conversation_stats.col` replaced by `excluded.col` when the new row is the conversation's last. */
function whenLast(col: string): string {
  return `${col} = CASE WHEN excluded.last_response_id > llm_relay_conversation_stats.last_response_id THEN excluded.${col} ELSE llm_relay_conversation_stats.${col} END`;
}

/**
 * The upsert a new `responses` row (`NEW`, with a conversation) makes: one more turn, its tokens,
 * the cost of its exchange row when that was inserted first, and the last exchange's columns when it
 * is the newest.
 */
export const RESPONSE_INSERT_STATS = `INSERT INTO llm_relay_conversation_stats (${STATS_COLUMNS.join(", ")})
SELECT NEW.conversation_id, NEW.id, NEW.id, NEW.datetime_utc, NEW.datetime_utc, 1,
  coalesce(NEW.input_tokens, 0), coalesce(NEW.output_tokens, 0), x.cost_usd,
  NEW.model, x.provider, ${X_PROTOCOL}, x.client, x.tenant_id, x.key_id, ${X_STATUS}
FROM (SELECT 1 AS one) AS one LEFT JOIN llm_relay_exchanges x ON x.response_id = NEW.id
WHERE true
ON CONFLICT (conversation_id) DO UPDATE SET
  turns = llm_relay_conversation_stats.turns + 1,
  input_tokens = llm_relay_conversation_stats.input_tokens + excluded.input_tokens,
  output_tokens = llm_relay_conversation_stats.output_tokens + excluded.output_tokens,
  cost_usd = CASE WHEN excluded.cost_usd IS NULL THEN llm_relay_conversation_stats.cost_usd ELSE coalesce(llm_relay_conversation_stats.cost_usd, 0) + excluded.cost_usd END,
  first_response_id = CASE WHEN excluded.first_response_id < llm_relay_conversation_stats.first_response_id THEN excluded.first_response_id ELSE llm_relay_conversation_stats.first_response_id END,
  first_utc = CASE WHEN llm_relay_conversation_stats.first_utc IS NULL OR excluded.first_utc < llm_relay_conversation_stats.first_utc THEN excluded.first_utc ELSE llm_relay_conversation_stats.first_utc END,
  last_utc = CASE WHEN llm_relay_conversation_stats.last_utc IS NULL OR excluded.last_utc > llm_relay_conversation_stats.last_utc THEN excluded.last_utc ELSE llm_relay_conversation_stats.last_utc END,
  ${LAST_COLUMNS.map(whenLast).join(",\n  ")},
  last_response_id = CASE WHEN excluded.last_response_id > llm_relay_conversation_stats.last_response_id THEN excluded.last_response_id ELSE llm_relay_conversation_stats.last_response_id END`;

/**
 * The update a new `llm_relay_exchanges` row (`NEW`) makes when its `responses` row was inserted
 * first: its cost added, and the last exchange's columns when it is the conversation's last. Touches
 * nothing when the `responses` row is not there yet (its own trigger then reads this row).
 */
export const EXCHANGE_INSERT_STATS = `UPDATE llm_relay_conversation_stats SET
  cost_usd = CASE WHEN NEW.cost_usd IS NULL THEN cost_usd ELSE coalesce(cost_usd, 0) + NEW.cost_usd END,
  provider = CASE WHEN last_response_id = NEW.response_id THEN NEW.provider ELSE provider END,
  protocol = CASE WHEN last_response_id = NEW.response_id THEN coalesce(NEW.protocol, 'chat') ELSE protocol END,
  client = CASE WHEN last_response_id = NEW.response_id THEN NEW.client ELSE client END,
  tenant_id = CASE WHEN last_response_id = NEW.response_id THEN NEW.tenant_id ELSE tenant_id END,
  key_id = CASE WHEN last_response_id = NEW.response_id THEN NEW.key_id ELSE key_id END,
  last_status = CASE WHEN last_response_id = NEW.response_id THEN coalesce(NEW.status, 'ok') ELSE last_status END
WHERE conversation_id = (SELECT conversation_id FROM responses WHERE id = NEW.response_id)`;

/** The conversation of an exchange row (`row`: `NEW` or `OLD`), as an SQL expression. */
export function exchangeConversation(row: string): string {
  return `(SELECT conversation_id FROM responses WHERE id = ${row}.response_id)`;
}

/**
 * The index DDL of the browser's queries (both dialects: `IF NOT EXISTS`): the stats list orders,
 * the Exchanges page's filters, and `responses (model, id)`.
 */
export const BROWSE_INDEXES_DDL = [
  `CREATE INDEX IF NOT EXISTS llm_relay_idx_stats_last ON llm_relay_conversation_stats (last_response_id)`,
  ...STATS_FILTER_COLUMNS.map(
    (col) =>
      `CREATE INDEX IF NOT EXISTS llm_relay_idx_stats_${col} ON llm_relay_conversation_stats (${col}, last_response_id)`,
  ),
  ...EXCHANGE_FILTER_COLUMNS.map(
    (col) => `CREATE INDEX IF NOT EXISTS llm_relay_idx_exchanges_${col} ON llm_relay_exchanges (${col}, response_id)`,
  ),
  `CREATE INDEX IF NOT EXISTS llm_relay_idx_responses_model ON responses (model, id)`,
];

/** The usage roll-up's upsert of one ledger row `NEW` (its cost in nano-USD as `costNusd`, its UTC day as `day`). */
export function usageDailyUpsertSql(day: string, costNusd: string): string {
  return `INSERT INTO llm_relay_usage_daily (day, tenant_id, key_id, model, requests, input_tokens, output_tokens, cost_nusd)
VALUES (${day}, NEW.tenant_id, coalesce(NEW.key_id, ''), NEW.model, 1, NEW.input_tokens, NEW.output_tokens, ${costNusd})
ON CONFLICT (day, tenant_id, key_id, model) DO UPDATE SET
  requests = llm_relay_usage_daily.requests + 1,
  input_tokens = llm_relay_usage_daily.input_tokens + excluded.input_tokens,
  output_tokens = llm_relay_usage_daily.output_tokens + excluded.output_tokens,
  cost_nusd = llm_relay_usage_daily.cost_nusd + excluded.cost_nusd`;
}

/** The usage roll-up's backfill from the whole ledger `u` (its UTC day as `day`, cost as `costNusd`). */
export function usageDailyBackfillSql(day: string, costNusd: string): string {
  return `INSERT INTO llm_relay_usage_daily (day, tenant_id, key_id, model, requests, input_tokens, output_tokens, cost_nusd)
SELECT ${day}, u.tenant_id, coalesce(u.key_id, ''), u.model, count(*), sum(u.input_tokens), sum(u.output_tokens), sum(${costNusd})
FROM llm_relay_usage u
GROUP BY ${day}, u.tenant_id, coalesce(u.key_id, ''), u.model`;
}
