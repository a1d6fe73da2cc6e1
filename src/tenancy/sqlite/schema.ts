/**
 * The tenancy tables in the SQLite logs.db, created if missing:
 * `llm_relay_keys`, `llm_relay_usage`, `llm_relay_idempotency`. Times are
 * ISO-8601 UTC text with ms (sorting as text sorts by time), JSON columns
 * are text, booleans 0/1. PostgreSQL has the same tables and columns
 * (`postgres/migrations.ts`).
 */
import type { Database } from "better-sqlite3";
import { usageDailyBackfillSql, usageDailyUpsertSql } from "../../browse/stats-sql.js";

/** The DDL, idempotent. */
export const TENANCY_SQLITE_DDL = `
CREATE TABLE IF NOT EXISTS "llm_relay_keys" (
  "id" TEXT PRIMARY KEY,
  "tenant_id" TEXT NOT NULL,
  "prefix" TEXT NOT NULL,
  "key_hash" TEXT NOT NULL UNIQUE,
  "created_at" TEXT NOT NULL,
  "revoked_at" TEXT,
  "budget_usd" REAL,
  "budget_period_ms" INTEGER,
  "rpm" INTEGER,
  "tpm" INTEGER,
  "models" TEXT
);
CREATE INDEX IF NOT EXISTS "llm_relay_idx_keys_prefix" ON "llm_relay_keys" ("prefix");
CREATE INDEX IF NOT EXISTS "llm_relay_idx_keys_tenant" ON "llm_relay_keys" ("tenant_id");
CREATE TABLE IF NOT EXISTS "llm_relay_usage" (
  "id" TEXT PRIMARY KEY,
  "tenant_id" TEXT NOT NULL,
  "key_id" TEXT,
  "model" TEXT NOT NULL,
  "provider" TEXT,
  "token_type" TEXT NOT NULL CHECK ("token_type" IN ('llm', 'embedding')),
  "operation" TEXT NOT NULL CHECK ("operation" IN ('query', 'batch', 'internal')),
  "input_tokens" INTEGER NOT NULL,
  "output_tokens" INTEGER NOT NULL,
  "tokens" INTEGER NOT NULL,
  "cost_usd" REAL,
  "estimated" INTEGER NOT NULL,
  "idempotency_key" TEXT NOT NULL UNIQUE,
  "metadata" TEXT,
  "created_at" TEXT NOT NULL,
  "key_total_nusd" INTEGER,
  "tenant_total_nusd" INTEGER
);
CREATE TABLE IF NOT EXISTS "llm_relay_idempotency" (
  "tenant_id" TEXT NOT NULL,
  "idempotency_key" TEXT NOT NULL,
  "fingerprint" TEXT NOT NULL,
  "state" TEXT NOT NULL CHECK ("state" IN ('in_progress', 'done')),
  "response_status" INTEGER,
  "response_headers" TEXT,
  "response_body" TEXT,
  "response_events" TEXT,
  "created_at" TEXT NOT NULL,
  "locked_until" TEXT NOT NULL,
  "completed_at" TEXT,
  "expires_at" TEXT NOT NULL,
  PRIMARY KEY ("tenant_id", "idempotency_key")
);
CREATE INDEX IF NOT EXISTS "llm_relay_idx_idempotency_expires" ON "llm_relay_idempotency" ("expires_at");
`;

/** A ledger row's cost in whole nano-USD (see nano-usd.ts): `cost_usd × 1e9` rounded half away from zero, 0 when unpriced. */
const COST_NUSD = (row: string) => `CAST(round(coalesce(${row}."cost_usd", 0) * 1000000000) AS INTEGER)`;

/**
 * A new row's running totals: the newest earlier row's total of its key
 * (null without a key) and of its tenant, plus its own cost. The SQL names of
 * the new row's values: `NEW` in a trigger, or the ledger insert's named
 * parameters (`ledger-writer.ts` computes the totals in its INSERT).
 */
export interface NewRowSql {
  id: string;
  tenantId: string;
  keyId: string;
  createdAt: string;
  /** The row's cost in nano-USD. */
  costNusd: string;
}

/** The new row in a trigger. */
const TRIGGER_ROW: NewRowSql = {
  id: `NEW."id"`,
  tenantId: `NEW."tenant_id"`,
  keyId: `NEW."key_id"`,
  createdAt: `NEW."created_at"`,
  costNusd: COST_NUSD("NEW"),
};

/** The new row as the ledger insert's named parameters (a `UsageRow`). */
export const INSERT_PARAMS: NewRowSql = {
  id: "@id",
  tenantId: "@tenantId",
  keyId: "@keyId",
  createdAt: "@createdAt",
  costNusd: "CAST(round(coalesce(@costUsd, 0) * 1000000000) AS INTEGER)",
};

/** The newest earlier row's total of `column` = `value`, or 0. */
function totalBefore(total: string, column: string, value: string, row: NewRowSql): string {
  return `coalesce((SELECT p."${total}" FROM "llm_relay_usage" p WHERE p."${column}" = ${value}
    AND (p."created_at", p."id") < (${row.createdAt}, ${row.id}) ORDER BY p."created_at" DESC, p."id" DESC LIMIT 1), 0)`;
}

/** The new row's key total (null without a key). */
export function keyTotalSql(row: NewRowSql): string {
  return `CASE WHEN ${row.keyId} IS NULL THEN NULL ELSE ${totalBefore("key_total_nusd", "key_id", row.keyId, row)} + ${row.costNusd} END`;
}

/** The new row's tenant total. */
export function tenantTotalSql(row: NewRowSql): string {
  return `${totalBefore("tenant_total_nusd", "tenant_id", row.tenantId, row)} + ${row.costNusd}`;
}

/**
 * The running spend totals of the ledger: indexes on (key, time, id) and
 * (tenant, time, id), and the triggers that keep the totals on every
 * insert. A row's totals are the sum of its key's (tenant's) costs up to and
 * including itself in (created_at, id) order. The ledger's own insert
 * (`ledger-writer.ts`, used by every writer: the record transaction,
 * `recordMany`, `record`) computes the new row's totals in its statement;
 * `…_fill` computes them for any other insert (one that leaves them null);
 * `…_later` adds a back-dated row's cost to the later rows of its key and tenant.
 */
const RUNNING_TOTALS_DDL = `
DROP INDEX IF EXISTS "llm_relay_idx_usage_tenant_time";
DROP INDEX IF EXISTS "llm_relay_idx_usage_key_time";
CREATE INDEX IF NOT EXISTS "llm_relay_idx_usage_tenant_run" ON "llm_relay_usage" ("tenant_id", "created_at", "id");
CREATE INDEX IF NOT EXISTS "llm_relay_idx_usage_key_run" ON "llm_relay_usage" ("key_id", "created_at", "id");
CREATE TRIGGER IF NOT EXISTS "llm_relay_usage_totals_fill" AFTER INSERT ON "llm_relay_usage" WHEN NEW."tenant_total_nusd" IS NULL BEGIN
  UPDATE "llm_relay_usage" SET
    "key_total_nusd" = ${keyTotalSql(TRIGGER_ROW)},
    "tenant_total_nusd" = ${tenantTotalSql(TRIGGER_ROW)}
  WHERE "id" = NEW."id";
END;
CREATE TRIGGER IF NOT EXISTS "llm_relay_usage_totals_later" AFTER INSERT ON "llm_relay_usage" WHEN ${COST_NUSD("NEW")} <> 0 BEGIN
  UPDATE "llm_relay_usage" SET "key_total_nusd" = "key_total_nusd" + ${COST_NUSD("NEW")}
  WHERE "key_id" = NEW."key_id" AND ("created_at", "id") > (NEW."created_at", NEW."id");
  UPDATE "llm_relay_usage" SET "tenant_total_nusd" = "tenant_total_nusd" + ${COST_NUSD("NEW")}
  WHERE "tenant_id" = NEW."tenant_id" AND ("created_at", "id") > (NEW."created_at", NEW."id");
END;
`;

/** Fills the running totals of every existing row (a ledger written before they existed), in one statement. */
const BACKFILL_TOTALS = `
UPDATE "llm_relay_usage" SET "key_total_nusd" = t."kt", "tenant_total_nusd" = t."tt"
FROM (
  SELECT "id",
    CASE WHEN "key_id" IS NULL THEN NULL
      ELSE sum("c") OVER (PARTITION BY "key_id" ORDER BY "created_at", "id" ROWS UNBOUNDED PRECEDING) END AS "kt",
    sum("c") OVER (PARTITION BY "tenant_id" ORDER BY "created_at", "id" ROWS UNBOUNDED PRECEDING) AS "tt"
  FROM (SELECT "id", "key_id", "tenant_id", "created_at", ${COST_NUSD("u")} AS "c" FROM "llm_relay_usage" u)
) AS t
WHERE "llm_relay_usage"."id" = t."id"`;

/**
 * The usage ledger rolled up per UTC day, tenant, key (`''`: none) and model (the conversation
 * browser's Usage page, issue 21; see browse/stats-sql.ts): kept by a trigger on the ledger's inserts.
 * No `NOT NULL` (the trigger never writes a NULL): a constraint it could break would make every ledger
 * insert open a statement journal (see relay-schema.ts's stats table).
 */
const USAGE_DAILY_TABLE_DDL = `CREATE TABLE "llm_relay_usage_daily" (
  "day" TEXT,
  "tenant_id" TEXT,
  "key_id" TEXT,
  "model" TEXT,
  "requests" INTEGER,
  "input_tokens" INTEGER,
  "output_tokens" INTEGER,
  "cost_nusd" INTEGER,
  PRIMARY KEY ("day", "tenant_id", "key_id", "model"))`;

const USAGE_DAILY_TRIGGER_DDL = `
CREATE TRIGGER IF NOT EXISTS "llm_relay_usage_daily_ai" AFTER INSERT ON "llm_relay_usage" BEGIN
${usageDailyUpsertSql(`substr(NEW."created_at", 1, 10)`, COST_NUSD("NEW"))};
END;`;

/** Creates the daily roll-up (backfilled from the ledger's rows) when missing, and its trigger. */
function ensureUsageDaily(db: Database): void {
  const exists =
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'llm_relay_usage_daily'`).get() !==
    undefined;
  if (!exists) {
    db.exec(USAGE_DAILY_TABLE_DDL);
    db.exec(usageDailyBackfillSql(`substr(u."created_at", 1, 10)`, COST_NUSD("u")));
  }
  db.exec(USAGE_DAILY_TRIGGER_DDL);
}

/**
 * Creates the tenancy tables, indexes and the running-totals trigger that
 * are missing, in one transaction (a savepoint inside the caller's). A
 * ledger from before the running totals gets the two columns and has them
 * filled for its existing rows.
 */
export function ensureTenancySchema(db: Database): void {
  db.transaction(() => {
    db.exec(TENANCY_SQLITE_DDL);
    const columns = new Set(
      (db.prepare(`PRAGMA table_info("llm_relay_usage")`).all() as { name: string }[]).map((c) => c.name),
    );
    const migrating = !columns.has("tenant_total_nusd");
    if (migrating) {
      db.exec(`ALTER TABLE "llm_relay_usage" ADD COLUMN "key_total_nusd" INTEGER`);
      db.exec(`ALTER TABLE "llm_relay_usage" ADD COLUMN "tenant_total_nusd" INTEGER`);
    }
    db.exec(RUNNING_TOTALS_DDL);
    if (migrating) db.exec(BACKFILL_TOTALS);
    ensureUsageDaily(db);
  })();
}
