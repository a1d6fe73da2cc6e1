/**
 * PostgreSQL's migration 7 (record tables) and tenancy migration 3 on a database that already holds
 * records: the summary tables are filled from the rows there (the same rows a fresh database's
 * triggers keep), and the BrowseStore's search goes through the GIN `to_tsvector` index.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import { openBrowseStore } from "../../src/browse/open.js";
import * as sql from "../../src/browse/browse-sql.js";
import { numberedPlaceholders } from "../../src/recording/log-query-sql.js";
import { PgStore } from "../../src/recording/postgres/pg-store.js";
import { PostgresTenancyStore } from "../../src/tenancy/postgres/postgres-tenancy-store.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { ALL_RECORDS } from "./browse-records.js";

let schema: TestSchema;
beforeEach(async () => {
  schema = await createTestSchema();
});
afterEach(async () => {
  await schema.drop();
});

const STATS = `SELECT * FROM llm_relay_conversation_stats ORDER BY conversation_id`;
const DAILY = `SELECT * FROM llm_relay_usage_daily ORDER BY day, tenant_id, key_id, model`;

it("fills the summary tables from the rows a database held before migration 7", async () => {
  const store = await PgStore.open(schema.url);
  for (const record of ALL_RECORDS) await store.writeBatch([record]);
  await store.close();
  const tenancy = await PostgresTenancyStore.open(schema.url, { max: 1 });
  await tenancy.ledger.record({
    model: "m-a",
    tenantId: "acme",
    inputTokens: 3,
    costUsd: 0.5,
    createdAt: "2026-10-01T10:00:00Z",
  });
  await tenancy.ledger.record({
    model: "m-a",
    tenantId: "acme",
    inputTokens: 4,
    costUsd: 0.25,
    createdAt: "2026-10-01T11:00:00Z",
  });
  await tenancy.close();
  const stats = await schema.rows(STATS);
  const daily = await schema.rows(DAILY);
  expect(stats).toHaveLength(9);
  expect(daily).toEqual([
    {
      day: "2026-10-01",
      tenant_id: "acme",
      key_id: "",
      model: "m-a",
      requests: "2",
      input_tokens: "7",
      output_tokens: "0",
      cost_nusd: "750000000",
    },
  ]);

  // Back to a database of version 6 / tenancy version 2, its records kept.
  await schema.sql.unsafe(`
    DROP TABLE llm_relay_conversation_stats;
    DROP FUNCTION llm_relay_stats_responses_ins, llm_relay_stats_responses_del, llm_relay_stats_responses_upd,
      llm_relay_stats_exchanges_ins, llm_relay_stats_exchanges_upd, llm_relay_stats_exchanges_del CASCADE;
    DROP INDEX llm_relay_idx_responses_model, llm_relay_idx_exchanges_status, llm_relay_idx_exchanges_provider,
      llm_relay_idx_exchanges_protocol, llm_relay_idx_exchanges_tenant_id, llm_relay_idx_exchanges_key_id;
    ALTER TABLE llm_relay_exchanges DROP COLUMN client;
    DELETE FROM llm_relay_pg_migrations WHERE version = 7;
    DROP TABLE llm_relay_usage_daily;
    DROP FUNCTION llm_relay_usage_daily CASCADE;
    DELETE FROM llm_relay_tenancy_migrations WHERE version = 3;`);

  const browse = await openBrowseStore({ databaseUrl: schema.url });
  try {
    const clientless = (rows: Record<string, unknown>[]) => rows.map((r) => ({ ...r, client: null }));
    expect(clientless(await schema.rows(STATS))).toEqual(clientless(stats));
    expect(await schema.rows(DAILY)).toEqual(daily);
    expect((await browse.conversations({}, {})).items).toHaveLength(9);
  } finally {
    await browse.close();
  }
});

it("searches through the GIN index", async () => {
  const store = await PgStore.open(schema.url);
  for (const record of ALL_RECORDS) await store.writeBatch([record]);
  await store.close();
  const f = sql.checkFilter({ search: "zebra" });
  /** The plan of `statement`, with sequential scans priced out (a table of a few rows is otherwise scanned). */
  const explain = (statement: sql.BrowseStatement): Promise<string> =>
    schema.sql.begin(async (tx) => {
      await tx.unsafe(`SET LOCAL enable_seqscan = off`);
      const rows = await tx.unsafe<{ "QUERY PLAN": string }[]>(
        `EXPLAIN ${numberedPlaceholders(statement.text)}`,
        statement.params,
      );
      return rows.map((r) => r["QUERY PLAN"]).join("\n");
    });
  expect(await explain(sql.exchangesStatement(f, "postgres", null, null, 51))).toMatch(
    /llm_relay_idx_responses_search/,
  );
  expect(await explain(sql.conversationsStatement(f, "postgres", null, 51))).toMatch(/llm_relay_idx_responses_search/);
});
