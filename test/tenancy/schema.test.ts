/**
 * Where the tenancy tables live. SQLite: in the proxy's own logs.db, beside
 * llm's tables, while the proxy keeps recording into it (and a file the
 * tenancy store created first is a logs.db the proxy opens). PostgreSQL:
 * versioned migrations in `llm_relay_tenancy_migrations`, applied once even
 * when instances open a fresh database together, refused when the database
 * is newer than this llm-relay.
 */
import path from "node:path";
import postgres from "postgres";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import { migrateTenancy, TENANCY_MIGRATIONS } from "../../src/tenancy/postgres/migrations.js";
import { PostgresTenancyStore } from "../../src/tenancy/postgres/postgres-tenancy-store.js";
import { SqliteTenancyStore } from "../../src/tenancy/sqlite/sqlite-tenancy-store.js";
import { rows } from "../helpers/db.js";
import { chat } from "../helpers/exchanges.js";
import { startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";
import { createBackend, PG_URL, type Backend } from "./backends.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("the tenancy tables in SQLite", () => {
  it("share the logs.db of a recording proxy", async () => {
    const proxy: TestProxy = await startTestProxy();
    cleanups.push(() => proxy.close());
    const before = await chat(proxy, { model: "echo", messages: [{ role: "user", content: "before the keys" }] });
    expect(before.status).toBe(200);
    await proxy.server.ctx.recorder.flush();
    const store = SqliteTenancyStore.open(proxy.dbPath);
    cleanups.push(() => store.close());
    const { key, plaintext } = await store.keys.create({ tenant: "acme" });
    // Keys are required from now on (admission.ts); the proxy books each exchange in the ledger.
    const answer = await chat(
      proxy,
      { model: "echo", messages: [{ role: "user", content: "still recording" }] },
      { authorization: `Bearer ${plaintext}` },
    );
    expect(answer.status).toBe(200);
    await proxy.server.ctx.recorder.flush();
    await proxy.server.ctx.booking.drain();
    await store.ledger.record({
      tenantId: "acme",
      keyId: key.id,
      model: "echo",
      inputTokens: 2,
      idempotencyKey: "req_1",
    });
    expect(rows(proxy.dbPath, "SELECT prompt FROM responses ORDER BY id")).toEqual([
      { prompt: "before the keys" },
      { prompt: "still recording" },
    ]);
    expect(rows(proxy.dbPath, "SELECT tenant_id, key_id FROM llm_relay_usage ORDER BY created_at, id")).toEqual([
      { tenant_id: "default", key_id: null },
      { tenant_id: "acme", key_id: key.id },
      { tenant_id: "acme", key_id: key.id },
    ]);
  });

  it("make a file the proxy's record store then opens as a logs.db", async () => {
    const file = path.join(tempDir("llm-relay-tenancy-first-"), "logs.db");
    const tenancy = SqliteTenancyStore.open(file);
    await tenancy.keys.create({ tenant: "acme" });
    await tenancy.close();
    const records = SqliteStore.open(file);
    records.close();
    expect(rows(file, "SELECT count(*) AS n FROM _llm_migrations")).toEqual([{ n: 30 }]);
    expect(rows(file, "SELECT tenant_id FROM llm_relay_keys")).toEqual([{ tenant_id: "acme" }]);
  });
});

describe("the tenancy migrations on PostgreSQL", () => {
  let backend: Backend;
  afterEach(async () => {
    await backend?.cleanup();
  });

  it("apply once, even when three instances open a fresh schema at the same time", async () => {
    backend = await createBackend("postgres");
    const stores = await Promise.all([backend.open(), backend.open(), backend.open()]);
    expect(await backend.raw("SELECT version, name FROM llm_relay_tenancy_migrations")).toEqual(
      TENANCY_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
    );
    const tables = await backend.raw(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual([
      "llm_relay_idempotency",
      "llm_relay_keys",
      "llm_relay_tenancy_migrations",
      "llm_relay_usage",
      "llm_relay_usage_daily",
    ]);
    // Each instance works on the same tables.
    const { plaintext } = await stores[0].keys.create({ tenant: "acme" });
    expect((await stores[2].keys.verify(plaintext))?.tenant).toBe("acme");
  });

  it("apply only the missing versions, and refuse a database from a newer llm-relay", async () => {
    backend = await createBackend("postgres");
    await backend.open();
    const schema = new URL(backend.location).searchParams.get("search_path")!;
    const sql = postgres(PG_URL, { max: 1, onnotice: () => undefined, connection: { search_path: schema } });
    cleanups.push(() => sql.end({ timeout: 5 }));
    expect(await migrateTenancy(sql)).toEqual([]);
    const current = TENANCY_MIGRATIONS.length;
    const next = {
      version: current + 1,
      name: "add_note",
      statements: ["ALTER TABLE llm_relay_keys ADD COLUMN note text"],
    };
    expect(await migrateTenancy(sql, [...TENANCY_MIGRATIONS, next])).toEqual([current + 1]);
    expect(await migrateTenancy(sql, [...TENANCY_MIGRATIONS, next])).toEqual([]);
    await expect(PostgresTenancyStore.open(PG_URL, { schema })).rejects.toThrow(
      `migrated by a newer llm-relay (version ${current + 1} > ${current})`,
    );
  });

  it("fail to open when the schema does not exist", async () => {
    backend = await createBackend("postgres");
    await expect(PostgresTenancyStore.open(PG_URL, { schema: "lr_test_missing_schema" })).rejects.toThrow(
      /schema|create/i,
    );
  });
});
