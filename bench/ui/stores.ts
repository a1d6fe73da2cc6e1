/**
 * The two stores the bench fills and reads: a SQLite logs.db file and a
 * PostgreSQL schema. For each: open the record store (`SqliteStore` /
 * `PgStore`, the writers the proxy uses), create the tenants' API keys
 * (the tenancy store), count the recorded exchanges, measure the size on
 * disk, and start over.
 */
import { existsSync, rmSync, statSync } from "node:fs";
import Database from "better-sqlite3";
import postgres from "postgres";
import { PgStore } from "../../src/recording/postgres/pg-store.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { RecordStore } from "../../src/recording/types.js";
import { PostgresTenancyStore } from "../../src/tenancy/postgres/postgres-tenancy-store.js";
import { SqliteTenancyStore } from "../../src/tenancy/sqlite/sqlite-tenancy-store.js";
import type { TenancyStore } from "../../src/tenancy/store.js";
import type { KeyIds } from "./records.js";
import { TENANTS } from "./profiles.js";

/** Which engine. */
export type StoreKind = "sqlite" | "postgres";

/** Where a store lives. */
export type StoreTarget = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string; schema: string };

/** `url` with its connections' `search_path` set to `schema` (the `postgres` package passes URL parameters to the server). */
export function schemaUrl(url: string, schema: string): string {
  return `${url}${url.includes("?") ? "&" : "?"}search_path=${schema}`;
}

function checkedSchema(schema: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) throw new Error(`invalid PostgreSQL schema name '${schema}'`);
  return schema;
}

/** Runs `work` with a one-connection client on the server of `target`, closed afterwards. */
async function withAdmin<T>(url: string, work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    return await work(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Recorded exchanges (`llm_relay_exchanges` rows) in the store; 0 when it does not exist yet. */
export async function recordedExchanges(target: StoreTarget): Promise<number> {
  if (target.kind === "sqlite") {
    if (!existsSync(target.path)) return 0;
    const db = new Database(target.path, { readonly: true });
    try {
      const has = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'llm_relay_exchanges'").get();
      return has ? (db.prepare("SELECT count(*) AS n FROM llm_relay_exchanges").get() as { n: number }).n : 0;
    } finally {
      db.close();
    }
  }
  const schema = checkedSchema(target.schema);
  return withAdmin(target.url, async (sql) => {
    const [found] = await sql`SELECT to_regclass(${`"${schema}".llm_relay_exchanges`}) AS t`;
    if (!found?.t) return 0;
    const [row] = await sql.unsafe(`SELECT count(*)::bigint AS n FROM "${schema}".llm_relay_exchanges`);
    return Number(row?.n ?? 0);
  });
}

/** Removes the store's data: the SQLite file (and its WAL), or the PostgreSQL schema, which is then created empty. */
export async function wipe(target: StoreTarget): Promise<void> {
  if (target.kind === "sqlite") {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(target.path + suffix, { force: true });
    return;
  }
  const schema = checkedSchema(target.schema);
  await withAdmin(target.url, async (sql) => {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await sql.unsafe(`CREATE SCHEMA "${schema}"`);
  });
}

/** Bytes the store takes: the file with its WAL, or every table of the schema with its indexes and TOAST. */
export async function sizeOnDisk(target: StoreTarget): Promise<number> {
  if (target.kind === "sqlite") {
    let bytes = 0;
    for (const suffix of ["", "-wal"])
      if (existsSync(target.path + suffix)) bytes += statSync(target.path + suffix).size;
    return bytes;
  }
  return withAdmin(target.url, async (sql) => {
    const [row] = await sql`
      SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${target.schema} AND c.relkind IN ('r', 'm')`;
    return Number(row?.bytes ?? 0);
  });
}

/**
 * Runs ANALYZE on a PostgreSQL schema, as autovacuum would soon after such a fill. A SQLite file is
 * left as the proxy leaves it: nothing runs ANALYZE or `PRAGMA optimize` on a logs.db, so its
 * planner has no `sqlite_stat1`, and any the file holds is removed (the plans a user's file gets).
 */
export async function analyze(target: StoreTarget): Promise<void> {
  if (target.kind === "sqlite") {
    const db = new Database(target.path);
    try {
      if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").get())
        db.exec("DELETE FROM sqlite_stat1");
    } finally {
      db.close();
    }
    return;
  }
  const schema = checkedSchema(target.schema);
  await withAdmin(schemaUrl(target.url, schema), async (sql) => {
    await sql.unsafe("ANALYZE");
  });
}

/** The record store the proxy would write with. */
export async function openRecordStore(target: StoreTarget): Promise<RecordStore> {
  if (target.kind === "sqlite") return SqliteStore.open(target.path);
  return PgStore.open(schemaUrl(target.url, checkedSchema(target.schema)));
}

async function openTenancy(target: StoreTarget): Promise<TenancyStore> {
  if (target.kind === "sqlite") return SqliteTenancyStore.open(target.path);
  return PostgresTenancyStore.open(target.url, { schema: checkedSchema(target.schema), max: 1, idleTimeoutS: 1 });
}

/** Creates the tenants' API keys (each with a monthly budget) and gives their ids. */
export async function createKeys(target: StoreTarget): Promise<KeyIds> {
  const store = await openTenancy(target);
  try {
    const out: Record<string, string[]> = {};
    for (const tenant of TENANTS) {
      out[tenant.id] = [];
      for (let i = 0; i < tenant.keys; i++) {
        const created = await store.keys.create({ tenant: tenant.id, budgetUsd: 500, budgetPeriodMs: 30 * 86_400_000 });
        out[tenant.id]!.push(created.key.id);
      }
    }
    return out;
  } finally {
    await store.close();
  }
}
