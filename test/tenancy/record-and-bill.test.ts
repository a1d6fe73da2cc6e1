/**
 * A record and its bill are one write: the record stores (SQLite's logs.db,
 * PostgreSQL) write each billable exchange's usage-ledger row in the same
 * transaction as its record (`RecordStore.booksUsage`), with the ledger's
 * rules — one row per billable exchange with billing, keyed by its ledger
 * key; a repeated `Idempotency-Key` is a retry and not booked again; a
 * request id reused by another exchange is booked under `<key>/<exchange id>`
 * — and a transaction that fails leaves neither the record nor the bill.
 * On the old code the store wrote no ledger row (the server booked it later,
 * from memory: a crash in between lost the bill).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PgStore } from "../../src/recording/postgres/pg-store.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { ExchangeBilling, ExchangeRecord, RecordStore } from "../../src/recording/types.js";
import { rows as sqliteRows } from "../helpers/db.js";
import { createTestSchema } from "../helpers/pg.js";
import { MAX_EVENT_COST_USD, MAX_EVENT_TOKENS } from "../../src/tenancy/usage-event.js";
import { aiderBody, recordFor } from "../helpers/records.js";

interface Harness {
  store: RecordStore;
  rows(sql: string): Promise<Record<string, unknown>[]>;
  /** Makes the next write fail inside its transaction, after the first record's rows were written. */
  breakNextWrite(records: ExchangeRecord[]): void;
  cleanup(): Promise<void>;
}

function sqliteHarness(): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-relay-bill-"));
  const file = path.join(dir, "logs.db");
  const store = SqliteStore.open(file);
  return Promise.resolve({
    store,
    rows: (sql) => Promise.resolve(sqliteRows(file, sql)),
    breakNextWrite: () => {
      // A full disk: the file may not grow by a page.
      const [row] = store.pragma("page_count") as { page_count: number }[];
      store.pragma(`max_page_count = ${row!.page_count}`);
    },
    cleanup: () => {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  });
}

async function pgHarness(): Promise<Harness> {
  const schema = await createTestSchema();
  const store = await PgStore.open(schema.url);
  return {
    store,
    rows: (sql) => schema.rows(sql),
    // The last record's http_status cannot be stored (integer column): the batch's transaction fails at its last statement.
    breakNextWrite: (records) => {
      records[records.length - 1]!.httpStatus = 200.5;
    },
    cleanup: async () => {
      await store.close();
      await schema.drop();
    },
  };
}

function billing(ledgerKey: string, fromIdempotencyKey = false): ExchangeBilling {
  return { ledgerKey, fromIdempotencyKey, operation: "query", reservationId: null };
}

/** A billable exchange of tenant acme, key key_a, costing `cost` USD. */
function billed(ledgerKey: string, cost: number, over: Partial<ExchangeRecord> = {}): ExchangeRecord {
  return recordFor(aiderBody(), {
    tenantId: "acme",
    keyId: "key_a",
    costUsd: cost,
    billing: billing(ledgerKey),
    billable: true,
    ...over,
  });
}

const USAGE = `SELECT idempotency_key, tenant_id, key_id, model, provider, token_type, operation, input_tokens, output_tokens, tokens,
  cost_usd, metadata FROM llm_relay_usage ORDER BY idempotency_key`;

describe.each([
  ["SqliteStore", sqliteHarness],
  ["PgStore", pgHarness],
] as const)("%s writes the bill with the record", (_name, makeHarness) => {
  let h: Harness;
  beforeEach(async () => {
    h = await makeHarness();
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it("books each billable exchange in the record's transaction, with the ledger's rules", async () => {
    expect(h.store.booksUsage).toBe(true);
    const first = billed("req_1", 0.25);
    const notBillable = billed("req_2", 0, { billable: false, status: "error", httpStatus: 502, responseText: "" });
    const noBilling = recordFor(aiderBody(), { tenantId: "acme", keyId: "key_a" });
    const reusedRequestId = billed("req_1", 0.5); // a client sending the same x-request-id again
    const withIdempotencyKey = billed("idempotency:acme:job-7", 0.125, {
      billing: billing("idempotency:acme:job-7", true),
    });
    const retry = billed("idempotency:acme:job-7", 0.125, { billing: billing("idempotency:acme:job-7", true) });
    await h.store.writeBatch([first, notBillable, noBilling, reusedRequestId, withIdempotencyKey]);
    await h.store.writeBatch([retry]);

    const usage = await h.rows(USAGE);
    expect(usage.map((u) => [u.idempotency_key, Number(u.cost_usd)])).toEqual([
      ["idempotency:acme:job-7", 0.125],
      ["req_1", 0.25],
      [`req_1/${reusedRequestId.id}`, 0.5],
    ]);
    const row = usage.find((u) => u.idempotency_key === "req_1")!;
    const metadata: unknown = typeof row.metadata === "string" ? JSON.parse(row.metadata) : row.metadata;
    expect({ ...row, metadata, cost_usd: Number(row.cost_usd) }).toEqual({
      idempotency_key: "req_1",
      tenant_id: "acme",
      key_id: "key_a",
      model: first.requestedModel,
      provider: "echo",
      token_type: "llm",
      operation: "query",
      input_tokens: 900,
      output_tokens: 40,
      tokens: 940,
      cost_usd: 0.25,
      metadata: { request_id: first.requestId, response_id: first.id, deployment: "local", status: "ok" },
    });
    // The budget's running totals were kept by the same write.
    const totals = await h.rows(
      `SELECT max(key_total_nusd) AS key_nusd, max(tenant_total_nusd) AS tenant_nusd FROM llm_relay_usage`,
    );
    expect(totals.map((t) => [Number(t.key_nusd), Number(t.tenant_nusd)])).toEqual([[875_000_000, 875_000_000]]);
  });

  it("writes the record and a bill within the ledger's per-event bound when the exchange is priced absurdly", async () => {
    // $10^9 for one exchange: the ledger refuses such an event (400 on /internal/usage); in the record's
    // transaction that refusal would cost the record itself.
    await h.store.writeBatch([billed("req_absurd", 1e9)]);
    expect(Number((await h.rows(`SELECT count(*) AS n FROM llm_relay_exchanges`))[0]!.n)).toBe(1);
    const usage = await h.rows(`SELECT input_tokens, cost_usd FROM llm_relay_usage`);
    expect(usage.map((u) => [Number(u.input_tokens), Number(u.cost_usd)])).toEqual([[900, MAX_EVENT_COST_USD]]);
  });

  it("leaves neither the records nor their bills when the transaction fails", async () => {
    const kept = billed("req_ok", 0.1);
    await h.store.writeBatch([kept]);
    const batch = [billed("req_lost_1", 0.2), billed("req_lost_2", 0.3)];
    h.breakNextWrite(batch);
    await expect(Promise.resolve().then(() => h.store.writeBatch(batch))).rejects.toThrow();
    expect((await h.rows(`SELECT idempotency_key FROM llm_relay_usage`)).map((u) => u.idempotency_key)).toEqual([
      "req_ok",
    ]);
    expect((await h.rows(`SELECT response_id FROM llm_relay_exchanges`)).map((e) => e.response_id)).toEqual([kept.id]);
  });
});

// SQLite only: PostgreSQL's token columns are 32-bit integers, so there an exchange reporting more than 2^31 tokens
// cannot be recorded at all (a limit of the record tables, not of the ledger).
it("SqliteStore writes the record and a bill within the ledger's per-event bounds when the upstream reports absurd token counts", async () => {
  const h = await sqliteHarness();
  try {
    await h.store.writeBatch([
      billed("req_absurd_tokens", 0.5, { usage: { input: 1e13, output: 2.5e13, estimated: false } }),
    ]);
    expect(Number((await h.rows(`SELECT count(*) AS n FROM llm_relay_exchanges`))[0]!.n)).toBe(1);
    const usage = await h.rows(`SELECT input_tokens, output_tokens, cost_usd FROM llm_relay_usage`);
    expect(usage.map((u) => [Number(u.input_tokens), Number(u.output_tokens), Number(u.cost_usd)])).toEqual([
      [MAX_EVENT_TOKENS, MAX_EVENT_TOKENS, 0.5],
    ]);
  } finally {
    await h.cleanup();
  }
});
