/**
 * Existing ledgers get the running budget totals when opened: rows written
 * before them (in any time order) have their totals filled, so the O(1)
 * budget check answers as the old SUM did from the first request; a row
 * inserted afterwards by another writer (plain SQL, without the totals) is
 * completed by the triggers. SQLite and PostgreSQL.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import postgres from "postgres";
import { afterEach, describe, expect, it } from "vitest";
import { migrateTenancy, TENANCY_MIGRATIONS } from "../../src/tenancy/postgres/migrations.js";
import { PostgresTenancyStore } from "../../src/tenancy/postgres/postgres-tenancy-store.js";
import { SqliteTenancyStore } from "../../src/tenancy/sqlite/sqlite-tenancy-store.js";
import type { TenancyStore } from "../../src/tenancy/store.js";
import { usdToNanoUsd } from "../../src/tenancy/nano-usd.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";

/** Rows of an old ledger: [id, tenant, key, cost, created_at], written out of time order. */
const OLD_ROWS: [string, string, string | null, number | null, string][] = [
  ["usage_3", "acme", "key_a", 0.5, "2026-11-20T10:00:00.000Z"],
  ["usage_1", "acme", "key_a", 0.25, "2026-11-18T10:00:00.000Z"],
  ["usage_2", "acme", "key_b", 1.125, "2026-11-19T10:00:00.000Z"],
  ["usage_4", "acme", null, 0.0625, "2026-11-19T10:00:00.000Z"],
  ["usage_5", "beta", "key_c", null, "2026-11-21T10:00:00.000Z"],
  ["usage_6", "beta", "key_c", 2, "2026-11-17T10:00:00.000Z"],
];
const SINCES = [
  "2026-11-01T00:00:00Z",
  "2026-11-18T10:00:00Z",
  "2026-11-19T10:00:00Z",
  "2026-11-19T10:00:00.001Z",
  "2026-11-20T00:00:00Z",
  "2026-12-01T00:00:00Z",
];

/** budgetSpend equals the old SUM for every key and tenant at every `since`. */
async function expectSameAsSum(store: TenancyStore): Promise<void> {
  for (const since of SINCES) {
    for (const keyId of ["key_a", "key_b", "key_c"]) {
      expect(await store.ledger.budgetSpend({ keyId }, since), `${keyId} since ${since}`).toBe(
        usdToNanoUsd(await store.ledger.spend({ keyId }, since)),
      );
    }
    for (const tenant of ["acme", "beta"]) {
      expect(await store.ledger.budgetSpend({ tenant }, since), `${tenant} since ${since}`).toBe(
        usdToNanoUsd(await store.ledger.spend({ tenant }, since)),
      );
    }
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("a ledger from before the running totals", () => {
  it("SQLite: is filled when opened, and a foreign insert is completed by the triggers", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-relay-totals-"));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, "logs.db");
    const old = new Database(file);
    old.exec(`CREATE TABLE llm_relay_usage (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, key_id TEXT, model TEXT NOT NULL, provider TEXT,
      token_type TEXT NOT NULL, operation TEXT NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, tokens INTEGER NOT NULL,
      cost_usd REAL, estimated INTEGER NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, metadata TEXT, created_at TEXT NOT NULL);
      CREATE INDEX llm_relay_idx_usage_tenant_time ON llm_relay_usage (tenant_id, created_at);
      CREATE INDEX llm_relay_idx_usage_key_time ON llm_relay_usage (key_id, created_at);`);
    const insert = old.prepare(
      `INSERT INTO llm_relay_usage VALUES (?, ?, ?, 'm', NULL, 'llm', 'query', 1, 1, 2, ?, 0, ?, NULL, ?)`,
    );
    for (const [id, tenant, key, cost, at] of OLD_ROWS) insert.run(id, tenant, key, cost, id, at);
    old.close();

    const store = SqliteTenancyStore.open(file);
    cleanups.push(() => store.close());
    await expectSameAsSum(store);
    const raw = new Database(file);
    cleanups.push(() => {
      raw.close();
    });
    raw
      .prepare(
        `INSERT INTO llm_relay_usage (id, tenant_id, key_id, model, token_type, operation, input_tokens, output_tokens, tokens, cost_usd, estimated, idempotency_key, created_at)
      VALUES ('usage_7', 'acme', 'key_a', 'm', 'llm', 'query', 1, 1, 2, 0.75, 0, 'usage_7', '2026-11-19T12:00:00.000Z')`,
      )
      .run();
    await expectSameAsSum(store);
    expect(await store.ledger.budgetSpend({ keyId: "key_a" }, "2026-11-01T00:00:00Z")).toBe(1_500_000_000);
  });

  it("PostgreSQL: migration 2 fills it, and a foreign insert is completed by the trigger", async () => {
    const schema: TestSchema = await createTestSchema();
    cleanups.push(() => schema.drop());
    const sql = postgres(schema.url, { max: 1, onnotice: () => undefined });
    cleanups.push(() => sql.end({ timeout: 5 }));
    expect(
      await migrateTenancy(
        sql,
        TENANCY_MIGRATIONS.filter((m) => m.version === 1),
      ),
    ).toEqual([1]);
    for (const [id, tenant, key, cost, at] of OLD_ROWS) {
      await sql`INSERT INTO llm_relay_usage (id, tenant_id, key_id, model, token_type, operation, input_tokens, output_tokens, tokens, cost_usd, estimated, idempotency_key, created_at)
        VALUES (${id}, ${tenant}, ${key}, 'm', 'llm', 'query', 1, 1, 2, ${cost}, false, ${id}, ${at}::timestamptz)`;
    }
    const store = await PostgresTenancyStore.open(schema.url);
    cleanups.push(() => store.close());
    await expectSameAsSum(store);
    await sql`INSERT INTO llm_relay_usage (id, tenant_id, key_id, model, token_type, operation, input_tokens, output_tokens, tokens, cost_usd, estimated, idempotency_key, created_at)
      VALUES ('usage_7', 'acme', 'key_a', 'm', 'llm', 'query', 1, 1, 2, 0.75, false, 'usage_7', '2026-11-19T12:00:00.000Z'::timestamptz)`;
    await expectSameAsSum(store);
    expect(await store.ledger.budgetSpend({ keyId: "key_a" }, "2026-11-01T00:00:00Z")).toBe(1_500_000_000);
  });
});
