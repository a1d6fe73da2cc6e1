/**
 * Writes ledger rows on a SQLite connection, idempotently: the one insert
 * shared by the tenancy store's ledger (`record`, `recordMany`) and the
 * record store (`SqliteStore.writeBatch`, which writes an exchange's row in
 * its record's transaction). The caller owns the transaction; the
 * running-totals trigger (schema.ts) keeps the budget totals.
 */
import type { Database, Statement } from "better-sqlite3";
import { usageRowFromDb, type UsageDbRow } from "../rows.js";
import type { RecordUsageResult, UsageRow } from "../types.js";
import { INSERT_PARAMS, keyTotalSql, tenantTotalSql } from "./schema.js";

/** Prepared ledger insert of one connection. */
export class SqliteLedgerWriter {
  private readonly insertRow: Statement;
  private readonly byKey: Statement;

  /** Prepares the statements once (the tenancy tables must exist). */
  constructor(db: Database) {
    this.insertRow = db.prepare(
      `INSERT INTO llm_relay_usage (id, tenant_id, key_id, model, provider, token_type, operation, input_tokens, output_tokens, tokens,
         cost_usd, estimated, idempotency_key, metadata, created_at, key_total_nusd, tenant_total_nusd)
       VALUES (@id, @tenantId, @keyId, @model, @provider, @tokenType, @operation, @inputTokens, @outputTokens, @tokens,
         @costUsd, @estimated, @idempotencyKey, @metadata, @createdAt, ${keyTotalSql(INSERT_PARAMS)}, ${tenantTotalSql(INSERT_PARAMS)})
       ON CONFLICT (idempotency_key) DO NOTHING`,
    );
    this.byKey = db.prepare(`SELECT * FROM llm_relay_usage WHERE idempotency_key = ?`);
  }

  /**
   * Inserts the row unless its idempotency key is taken; then answers the
   * existing row with `duplicate: true`.
   * @throws the engine's error (locked, full disk…)
   */
  insert(row: UsageRow): RecordUsageResult {
    const inserted = this.insertRow.run({
      ...row,
      estimated: row.estimated ? 1 : 0,
      metadata: row.metadata === null ? null : JSON.stringify(row.metadata),
    });
    if (inserted.changes === 1) return { row, duplicate: false };
    return { row: usageRowFromDb(this.byKey.get(row.idempotencyKey) as UsageDbRow), duplicate: true };
  }
}
