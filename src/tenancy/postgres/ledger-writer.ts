/**
 * Writes ledger rows on PostgreSQL, idempotently: the one insert shared by
 * the tenancy store's ledger and the record store (`PgStore.writeBatch`,
 * which writes an exchange's row in its record's transaction).
 *
 * The running-totals trigger (migration 2) serialises the writers of one
 * idempotency key (bucket), one tenant and one key with transaction-scoped advisory
 * locks, in that order. A transaction that writes several rows takes all
 * their locks first, in one global order ({@link lockLedgerScopes}), so two
 * of them never deadlock.
 */
import type postgres from "postgres";
import { usageRowFromDb, type UsageDbRow } from "../rows.js";
import type { RecordUsageResult, UsageRow } from "../types.js";

/** Advisory-lock class (first int4 key) of a ledger idempotency key's bucket; the second key is `hashtext(idempotency_key) & (buckets − 1)`. Taken first. */
export const IDEMPOTENCY_LOCK_CLASS = 731_800;
/** Buckets of idempotency-key locks (a power of 2): a lock per key would fill PostgreSQL's lock table in a large batch. */
export const IDEMPOTENCY_LOCK_BUCKETS = 64;
/** Advisory-lock class of a tenant's ledger rows; the second key is `hashtext(tenant_id)`. */
export const TENANT_LOCK_CLASS = 731_801;
/** Advisory-lock class of a key's ledger rows; the second key is `hashtext(key_id)`. Taken after the tenant's. */
export const KEY_LOCK_CLASS = 731_802;

/** A connection, pool or transaction of the `postgres` package. */
type Runner = postgres.Sql | postgres.TransactionSql;

/**
 * Inserts the row unless its idempotency key is taken; then answers the
 * existing row (the winner's, once committed: ON CONFLICT waits for it) with `duplicate: true`.
 * @throws the database error
 */
export async function insertUsageRow(sql: Runner, row: UsageRow): Promise<RecordUsageResult> {
  const inserted = await sql`
    INSERT INTO llm_relay_usage (id, tenant_id, key_id, model, provider, token_type, operation, input_tokens, output_tokens, tokens,
      cost_usd, estimated, idempotency_key, metadata, created_at)
    VALUES (${row.id}, ${row.tenantId}, ${row.keyId}, ${row.model}, ${row.provider}, ${row.tokenType}, ${row.operation},
      ${row.inputTokens}, ${row.outputTokens}, ${row.tokens}, ${row.costUsd}, ${row.estimated}, ${row.idempotencyKey},
      ${row.metadata === null ? null : JSON.stringify(row.metadata)}::jsonb, ${row.createdAt}::timestamptz)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id`;
  if (inserted.length === 1) return { row, duplicate: false };
  const [first] = await sql<UsageDbRow[]>`SELECT * FROM llm_relay_usage WHERE idempotency_key = ${row.idempotencyKey}`;
  return { row: usageRowFromDb(first!), duplicate: true };
}

/**
 * Takes, in a transaction about to write these ledger rows, every advisory
 * lock their trigger will take, in (class, hash) order: idempotency keys,
 * then tenants, then keys, as a single-row insert takes them. A row booked
 * again under another idempotency key (`rebookingKey`) takes that key's lock
 * when it is written, after these: only its own transaction can know that key.
 */
export async function lockLedgerScopes(
  tx: postgres.TransactionSql,
  rows: readonly { idempotencyKey: string; tenantId: string; keyId: string | null }[],
): Promise<void> {
  if (rows.length === 0) return;
  const idempotencyKeys = [...new Set(rows.map((r) => r.idempotencyKey))];
  const tenants = [...new Set(rows.map((r) => r.tenantId))];
  const keys = [...new Set(rows.flatMap((r) => (r.keyId === null ? [] : [r.keyId])))];
  // pg_advisory_xact_lock is volatile: evaluated after the sort, so the locks are taken in this order.
  await tx`
    SELECT pg_advisory_xact_lock(c, h) FROM (
      SELECT DISTINCT ${IDEMPOTENCY_LOCK_CLASS}::int AS c, hashtext(i) & ${IDEMPOTENCY_LOCK_BUCKETS - 1} AS h FROM unnest(${idempotencyKeys}::text[]) AS i
      UNION SELECT ${TENANT_LOCK_CLASS}::int, hashtext(t) FROM unnest(${tenants}::text[]) AS t
      UNION SELECT ${KEY_LOCK_CLASS}::int, hashtext(k) FROM unnest(${keys}::text[]) AS k) AS scopes
    ORDER BY c, h`;
}
