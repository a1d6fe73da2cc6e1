/**
 * A throw-away PostgreSQL schema per test, on the server `env` describes
 * (127.0.0.1:5432, database `test`; override with LLM_RELAY_TEST_DATABASE_URL).
 * CI and other sessions share that server, so every test works in its own
 * `lr_test_<random>` schema and drops it at the end.
 */
import { randomBytes } from "node:crypto";
import postgres, { type Sql } from "postgres";

/** The server the tests use. */
export const TEST_DATABASE_URL = process.env.LLM_RELAY_TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

/** A fresh schema and a connection pinned to it. */
export interface TestSchema {
  /** `lr_test_<16 hex>` */
  name: string;
  /** A URL whose connections use the schema (`?search_path=…`, which the `postgres` package passes to the server). */
  url: string;
  /** A connection (search_path = the schema) for assertions. */
  sql: Sql;
  /** Rows of a query, as plain objects. */
  rows<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<T[]>;
  /** `count(*)` of a query's rows. */
  count(query: string, params?: unknown[]): Promise<number>;
  /** Drops the schema (cascade) and closes the connection. */
  drop(): Promise<void>;
}

/** Creates a new schema on the test server. */
export async function createTestSchema(): Promise<TestSchema> {
  const name = `lr_test_${randomBytes(8).toString("hex")}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`CREATE SCHEMA "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = `${TEST_DATABASE_URL}${TEST_DATABASE_URL.includes("?") ? "&" : "?"}search_path=${name}`;
  const sql = postgres(url, { max: 2, onnotice: () => undefined });
  const rows = async <T>(query: string, params: unknown[] = []): Promise<T[]> =>
    [...(await sql.unsafe(query, params as never[]))] as T[];
  return {
    name,
    url,
    sql,
    rows,
    async count(query, params = []) {
      const found = await rows<{ n: string | number }>(`SELECT count(*) AS n FROM (${query}) AS q`, params);
      return Number(found[0]!.n);
    },
    async drop() {
      try {
        await sql.unsafe(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}
