/**
 * The tenancy tables in the SQLite logs.db, created if missing:
 * `llm_relay_keys`, `llm_relay_usage`, `llm_relay_idempotency`. Times are
 * ISO-8601 UTC text with ms (sorting as text sorts by time), JSON columns
 * are text, booleans 0/1. PostgreSQL has the same tables and columns
 * (`postgres/migrations.ts`).
 */
import type { Database } from "better-sqlite3";

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
  "created_at" TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS "llm_relay_idx_usage_tenant_time" ON "llm_relay_usage" ("tenant_id", "created_at");
CREATE INDEX IF NOT EXISTS "llm_relay_idx_usage_key_time" ON "llm_relay_usage" ("key_id", "created_at");
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

/** Creates the tenancy tables and indexes that are missing, in one transaction. */
export function ensureTenancySchema(db: Database): void {
  db.transaction(() => db.exec(TENANCY_SQLITE_DDL))();
}
