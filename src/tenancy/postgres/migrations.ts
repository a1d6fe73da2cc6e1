/**
 * Versioned migrations of the tenancy tables on PostgreSQL, recorded in
 * their own table `llm_relay_tenancy_migrations(version, name, applied_at)`.
 * They run when a store opens, inside one transaction holding a
 * transaction-level advisory lock, so instances starting together apply
 * each migration once. The tables mirror the SQLite ones
 * (`sqlite/schema.ts`): same names and columns, with `timestamptz` times,
 * `jsonb` JSON and `boolean` flags.
 */
import type postgres from "postgres";
import { usageDailyBackfillSql, usageDailyUpsertSql } from "../../browse/stats-sql.js";
import {
  IDEMPOTENCY_LOCK_BUCKETS,
  IDEMPOTENCY_LOCK_CLASS,
  KEY_LOCK_CLASS,
  TENANT_LOCK_CLASS,
} from "./ledger-writer.js";

/** One migration: its statements run in order, in the migrating transaction. */
export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

/** Key of the advisory lock held while migrating (any instance of llm-relay, any schema). */
export const TENANCY_MIGRATION_LOCK = 7_318_004_211;

/** A row's cost in whole nano-USD (see nano-usd.ts): `cost_usd × 1e9` rounded half away from zero (numeric round), 0 when unpriced. */
const COST_NUSD = (row: string) => `round((coalesce(${row}.cost_usd, 0) * 1000000000)::numeric)::bigint`;

/**
 * Version 2: the running spend totals of the ledger (as SQLite's
 * `sqlite/schema.ts`). Each row carries the sum of its key's and of its
 * tenant's costs up to and including itself, in (created_at, id) order.
 * One BEFORE INSERT trigger does it all, under transaction-scoped advisory
 * locks on the row's idempotency-key bucket (one of 64: a lock per key
 * would fill the lock table in a large batch), tenant and key (in that order; held
 * to commit, so the writers of one tenant or key are serialised and each
 * sees the rows of the one before): a row whose idempotency key exists is
 * skipped (as ON CONFLICT DO NOTHING would; the lock closes the race), else
 * its totals are computed from the newest earlier row, and a back-dated
 * row's cost is added to the later rows. (An AFTER trigger would fire only
 * at the end of a multi-row statement, after later rows of the same
 * statement had already counted this one.) Existing rows are filled here.
 */
const RUNNING_TOTALS: readonly string[] = [
  `LOCK TABLE llm_relay_usage IN SHARE ROW EXCLUSIVE MODE`,
  `ALTER TABLE llm_relay_usage ADD COLUMN key_total_nusd bigint, ADD COLUMN tenant_total_nusd bigint`,
  `UPDATE llm_relay_usage u SET key_total_nusd = t.kt, tenant_total_nusd = t.tt
   FROM (
     SELECT id,
       CASE WHEN key_id IS NULL THEN NULL
         ELSE sum(c) OVER (PARTITION BY key_id ORDER BY created_at, id ROWS UNBOUNDED PRECEDING) END AS kt,
       sum(c) OVER (PARTITION BY tenant_id ORDER BY created_at, id ROWS UNBOUNDED PRECEDING) AS tt
     FROM (SELECT id, key_id, tenant_id, created_at, ${COST_NUSD("r")} AS c FROM llm_relay_usage r) AS costs
   ) AS t
   WHERE u.id = t.id`,
  `DROP INDEX llm_relay_idx_usage_tenant_time`,
  `DROP INDEX llm_relay_idx_usage_key_time`,
  `CREATE INDEX llm_relay_idx_usage_tenant_run ON llm_relay_usage (tenant_id, created_at, id)`,
  `CREATE INDEX llm_relay_idx_usage_key_run ON llm_relay_usage (key_id, created_at, id)`,
  `CREATE FUNCTION llm_relay_usage_totals() RETURNS trigger LANGUAGE plpgsql AS $$
   DECLARE
     cost bigint := ${COST_NUSD("NEW")};
     newest_at timestamptz;
     newest_id text;
   BEGIN
     PERFORM pg_advisory_xact_lock(${IDEMPOTENCY_LOCK_CLASS}, hashtext(NEW.idempotency_key) & ${IDEMPOTENCY_LOCK_BUCKETS - 1});
     PERFORM pg_advisory_xact_lock(${TENANT_LOCK_CLASS}, hashtext(NEW.tenant_id));
     IF NEW.key_id IS NOT NULL THEN
       PERFORM pg_advisory_xact_lock(${KEY_LOCK_CLASS}, hashtext(NEW.key_id));
     END IF;
     IF EXISTS (SELECT 1 FROM llm_relay_usage WHERE idempotency_key = NEW.idempotency_key) THEN
       RETURN NULL;
     END IF;
     NEW.tenant_total_nusd := coalesce((SELECT p.tenant_total_nusd FROM llm_relay_usage p
       WHERE p.tenant_id = NEW.tenant_id AND (p.created_at, p.id) < (NEW.created_at, NEW.id)
       ORDER BY p.created_at DESC, p.id DESC LIMIT 1), 0) + cost;
     NEW.key_total_nusd := CASE WHEN NEW.key_id IS NULL THEN NULL ELSE coalesce((SELECT p.key_total_nusd FROM llm_relay_usage p
       WHERE p.key_id = NEW.key_id AND (p.created_at, p.id) < (NEW.created_at, NEW.id)
       ORDER BY p.created_at DESC, p.id DESC LIMIT 1), 0) + cost END;
     IF cost = 0 THEN
       RETURN NEW;
     END IF;
     -- Later rows (a back-dated row) are looked for through the newest row, an ordered index probe
     -- whatever the table's statistics, so the usual insert (the newest) never scans.
     SELECT p.created_at, p.id INTO newest_at, newest_id FROM llm_relay_usage p
      WHERE p.tenant_id = NEW.tenant_id ORDER BY p.created_at DESC, p.id DESC LIMIT 1;
     IF FOUND AND (newest_at, newest_id) > (NEW.created_at, NEW.id) THEN
       UPDATE llm_relay_usage SET tenant_total_nusd = tenant_total_nusd + cost
        WHERE tenant_id = NEW.tenant_id AND (created_at, id) > (NEW.created_at, NEW.id);
     END IF;
     IF NEW.key_id IS NOT NULL THEN
       SELECT p.created_at, p.id INTO newest_at, newest_id FROM llm_relay_usage p
        WHERE p.key_id = NEW.key_id ORDER BY p.created_at DESC, p.id DESC LIMIT 1;
       IF FOUND AND (newest_at, newest_id) > (NEW.created_at, NEW.id) THEN
         UPDATE llm_relay_usage SET key_total_nusd = key_total_nusd + cost
          WHERE key_id = NEW.key_id AND (created_at, id) > (NEW.created_at, NEW.id);
       END IF;
     END IF;
     RETURN NEW;
   END $$`,
  `CREATE TRIGGER llm_relay_usage_totals BEFORE INSERT ON llm_relay_usage FOR EACH ROW EXECUTE FUNCTION llm_relay_usage_totals()`,
];

/** The UTC day of a ledger row `row` (`YYYY-MM-DD`, the roll-up's text key, as SQLite's). */
const UTC_DAY = (row: string) => `to_char(${row}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;

/**
 * Version 3 (issue 21): the ledger rolled up per UTC day, tenant, key (`''`: none) and model
 * (`llm_relay_usage_daily`, the conversation browser's Usage page), kept by an AFTER INSERT trigger
 * (rows the running-totals trigger skips as duplicates are never inserted) and backfilled.
 */
const USAGE_DAILY: readonly string[] = [
  `CREATE TABLE llm_relay_usage_daily (
    day text NOT NULL,
    tenant_id text NOT NULL,
    key_id text NOT NULL,
    model text NOT NULL,
    requests bigint NOT NULL,
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    cost_nusd bigint NOT NULL,
    PRIMARY KEY (day, tenant_id, key_id, model)
  )`,
  `LOCK TABLE llm_relay_usage IN SHARE ROW EXCLUSIVE MODE`,
  usageDailyBackfillSql(UTC_DAY("u"), COST_NUSD("u")),
  `CREATE FUNCTION llm_relay_usage_daily() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     ${usageDailyUpsertSql(UTC_DAY("NEW"), COST_NUSD("NEW"))};
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER llm_relay_usage_daily AFTER INSERT ON llm_relay_usage FOR EACH ROW EXECUTE FUNCTION llm_relay_usage_daily()`,
];

/** The migrations, oldest first. Append only; never edit one that has shipped. */
export const TENANCY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "keys_usage_idempotency",
    statements: [
      `CREATE TABLE llm_relay_keys (
        id text PRIMARY KEY,
        tenant_id text NOT NULL,
        prefix text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz,
        budget_usd double precision,
        budget_period_ms bigint,
        rpm integer,
        tpm integer,
        models jsonb
      )`,
      `CREATE INDEX llm_relay_idx_keys_prefix ON llm_relay_keys (prefix)`,
      `CREATE INDEX llm_relay_idx_keys_tenant ON llm_relay_keys (tenant_id)`,
      `CREATE TABLE llm_relay_usage (
        id text PRIMARY KEY,
        tenant_id text NOT NULL,
        key_id text,
        model text NOT NULL,
        provider text,
        token_type text NOT NULL CHECK (token_type IN ('llm', 'embedding')),
        operation text NOT NULL CHECK (operation IN ('query', 'batch', 'internal')),
        input_tokens integer NOT NULL,
        output_tokens integer NOT NULL,
        tokens integer NOT NULL,
        cost_usd double precision,
        estimated boolean NOT NULL,
        idempotency_key text NOT NULL UNIQUE,
        metadata jsonb,
        created_at timestamptz NOT NULL
      )`,
      `CREATE INDEX llm_relay_idx_usage_tenant_time ON llm_relay_usage (tenant_id, created_at)`,
      `CREATE INDEX llm_relay_idx_usage_key_time ON llm_relay_usage (key_id, created_at)`,
      `CREATE TABLE llm_relay_idempotency (
        tenant_id text NOT NULL,
        idempotency_key text NOT NULL,
        fingerprint text NOT NULL,
        state text NOT NULL CHECK (state IN ('in_progress', 'done')),
        response_status integer,
        response_headers jsonb,
        response_body text,
        response_events jsonb,
        created_at timestamptz NOT NULL,
        locked_until timestamptz NOT NULL,
        completed_at timestamptz,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, idempotency_key)
      )`,
      `CREATE INDEX llm_relay_idx_idempotency_expires ON llm_relay_idempotency (expires_at)`,
    ],
  },
  {
    version: 2,
    name: "usage_running_totals",
    statements: RUNNING_TOTALS,
  },
  { version: 3, name: "usage_daily", statements: USAGE_DAILY },
];

/**
 * Applies the migrations the database lacks, in one transaction.
 * @returns the versions applied now (empty when it was up to date)
 * @throws when the database has a version newer than this llm-relay knows, or on a database error
 */
export async function migrateTenancy(
  sql: postgres.Sql,
  migrations: readonly Migration[] = TENANCY_MIGRATIONS,
): Promise<number[]> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${String(TENANCY_MIGRATION_LOCK)}::bigint)`;
    await tx`CREATE TABLE IF NOT EXISTS llm_relay_tenancy_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`;
    const applied = new Set(
      (await tx<{ version: number }[]>`SELECT version FROM llm_relay_tenancy_migrations`).map((row) => row.version),
    );
    const newest = Math.max(0, ...migrations.map((m) => m.version));
    const unknown = [...applied].filter((version) => version > newest);
    if (unknown.length > 0)
      throw new Error(
        `the tenancy tables were migrated by a newer llm-relay (version ${Math.max(...unknown)} > ${newest})`,
      );
    const done: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements) await tx.unsafe(statement);
      await tx`INSERT INTO llm_relay_tenancy_migrations (version, name) VALUES (${migration.version}, ${migration.name})`;
      done.push(migration.version);
    }
    return done;
  });
}
