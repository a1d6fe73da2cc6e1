/**
 * The two engines the tenancy contract tests run against, behind one
 * harness: a fresh SQLite file (in a temp dir), or a fresh PostgreSQL
 * schema `lr_test_<random>` on the test server (127.0.0.1:5432, database
 * `test`; LLM_RELAY_TEST_DATABASE_URL overrides), dropped at the end.
 * `open()` opens another store instance on the same database (a second
 * connection, as a second proxy instance would), `raw()` reads rows with
 * plain SQL, outside the store.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { PostgresTenancyStore } from "../../src/tenancy/postgres/postgres-tenancy-store.js";
import { SqliteTenancyStore } from "../../src/tenancy/sqlite/sqlite-tenancy-store.js";
import type { TenancyStore } from "../../src/tenancy/store.js";
import { rows } from "../helpers/db.js";

/** The PostgreSQL server of the tests. */
export const PG_URL = process.env.LLM_RELAY_TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

/** One fresh database of one engine. */
export interface Backend {
  readonly name: "sqlite" | "postgres";
  /** The SQLite file, or the PostgreSQL URL pinned to the schema (`?search_path=`). */
  readonly location: string;
  /** Opens a new store instance on this database (closed by `cleanup`). */
  open(): Promise<TenancyStore>;
  /** Rows of a plain SQL query with `?` placeholders (turned into `$1`, `$2`… on PostgreSQL). */
  raw(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Closes every store opened and removes the database. */
  cleanup(): Promise<void>;
}

/** Creates a fresh database of `name`. */
export async function createBackend(name: Backend["name"]): Promise<Backend> {
  return name === "sqlite" ? sqliteBackend() : postgresBackend();
}

function sqliteBackend(): Backend {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-relay-tenancy-"));
  const file = path.join(dir, "logs.db");
  const stores: TenancyStore[] = [];
  return {
    name: "sqlite",
    location: file,
    open() {
      const store = SqliteTenancyStore.open(file);
      stores.push(store);
      return Promise.resolve(store);
    },
    raw(sql, params = []) {
      return Promise.resolve(rows(file, sql, ...params));
    },
    async cleanup() {
      await Promise.all(stores.map((s) => s.close()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresBackend(): Promise<Backend> {
  const schema = `lr_test_${randomBytes(8).toString("hex")}`;
  const admin = postgres(PG_URL, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`CREATE SCHEMA "${schema}"`);
  const stores: TenancyStore[] = [];
  return {
    name: "postgres",
    location: `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}search_path=${schema}`,
    async open() {
      const store = await PostgresTenancyStore.open(PG_URL, { schema, max: 10 });
      stores.push(store);
      return store;
    },
    async raw(sql, params = []) {
      await admin.unsafe(`SET search_path TO "${schema}"`);
      let n = 0;
      const numbered = sql.replace(/\?/g, () => `$${++n}`);
      return [...(await admin.unsafe(numbered, params as never[]))] as Record<string, unknown>[];
    },
    async cleanup() {
      try {
        await Promise.all(stores.map((s) => s.close()));
        await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
  };
}

/** The engines every contract test runs on. */
export const ENGINES: readonly Backend["name"][] = ["sqlite", "postgres"];
