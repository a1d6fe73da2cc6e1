/**
 * The usage ledger, the same on SQLite and PostgreSQL: one row per event
 * with the defaults filled in; the same idempotency key twice gives one row
 * and the second call answers `duplicate: true` with the first row — also
 * for 20 concurrent calls spread over two store instances; summaries by
 * model, UTC day and key with tenant/time filters; spend for budgets.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TenancyStore } from "../../src/tenancy/store.js";
import type { UsageEvent } from "../../src/tenancy/types.js";
import { createBackend, ENGINES, type Backend } from "./backends.js";
import { match } from "../helpers/matchers.js";

describe.each(ENGINES)("usage ledger on %s", (engine) => {
  let backend: Backend;
  let store: TenancyStore;

  beforeEach(async () => {
    backend = await createBackend(engine);
    store = await backend.open();
  });
  afterEach(async () => {
    await backend.cleanup();
  });

  it("writes one row with every default filled in", async () => {
    const before = Date.now();
    const { row, duplicate } = await store.ledger.record({ model: "echo", inputTokens: 12, outputTokens: 5 });
    expect(duplicate).toBe(false);
    expect(row).toEqual({
      id: match.stringMatching(/^usage_[0-9a-z]{26}$/),
      tenantId: "default",
      keyId: null,
      model: "echo",
      provider: null,
      tokenType: "llm",
      operation: "query",
      inputTokens: 12,
      outputTokens: 5,
      tokens: 17,
      costUsd: null,
      estimated: false,
      idempotencyKey: row.id,
      metadata: null,
      createdAt: match.any(String),
    });
    expect(Date.parse(row.createdAt)).toBeGreaterThanOrEqual(before);
    const stored = await backend.raw("SELECT * FROM llm_relay_usage");
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      id: row.id,
      tenant_id: "default",
      model: "echo",
      input_tokens: 12,
      output_tokens: 5,
      tokens: 17,
      token_type: "llm",
      operation: "query",
    });
  });

  it("writes a batch with recordMany: one result per event in order, duplicates answered with the first row", async () => {
    await store.ledger.record({ model: "echo", inputTokens: 1, idempotencyKey: "req_seen" });
    const results = await store.ledger.recordMany([
      { model: "echo", inputTokens: 2, idempotencyKey: "req_a" },
      { model: "echo", inputTokens: 3, idempotencyKey: "req_seen" },
      { model: "echo", inputTokens: 4, idempotencyKey: "req_b" },
      { model: "echo", inputTokens: 5, idempotencyKey: "req_a" },
    ]);
    expect(results.map((r) => [r.row.idempotencyKey, r.row.inputTokens, r.duplicate])).toEqual([
      ["req_a", 2, false],
      ["req_seen", 1, true],
      ["req_b", 4, false],
      ["req_a", 2, true],
    ]);
    expect(await backend.raw("SELECT idempotency_key FROM llm_relay_usage ORDER BY idempotency_key")).toEqual([
      { idempotency_key: "req_a" },
      { idempotency_key: "req_b" },
      { idempotency_key: "req_seen" },
    ]);
    await expect(
      store.ledger.recordMany([
        { model: "echo", idempotencyKey: "req_c" },
        { model: "", idempotencyKey: "req_d" },
      ]),
    ).rejects.toThrow(/model/);
    expect(
      await backend.raw("SELECT idempotency_key FROM llm_relay_usage WHERE idempotency_key IN ('req_c', 'req_d')"),
    ).toEqual([]);
  });

  it("answers a second event with the same idempotency key with the first row, and writes nothing", async () => {
    const first: UsageEvent = {
      tenantId: "acme",
      keyId: "key_1",
      model: "gpt-4o-mini",
      provider: "openai-compatible",
      tokenType: "embedding",
      operation: "batch",
      inputTokens: 100,
      outputTokens: 0,
      costUsd: 0.002,
      estimated: true,
      idempotencyKey: "req_abc",
      metadata: { job: 42, tags: ["x"] },
      createdAt: "2026-11-20T08:00:00.250Z",
    };
    const a = await store.ledger.record(first);
    expect(a.duplicate).toBe(false);
    expect(a.row).toMatchObject({ ...first, tokens: 100, createdAt: "2026-11-20T08:00:00.250Z" });
    const b = await store.ledger.record({ ...first, model: "other", inputTokens: 999, costUsd: 5 });
    expect(b).toEqual({ row: a.row, duplicate: true });
    // A fresh instance reads the row back exactly as written.
    const other = await backend.open();
    expect(await other.ledger.record({ model: "x", idempotencyKey: "req_abc" })).toEqual({
      row: a.row,
      duplicate: true,
    });
    expect(await backend.raw("SELECT id FROM llm_relay_usage")).toEqual([{ id: a.row.id }]);
  });

  it("keeps one row for 20 concurrent events with one key sent through two instances", async () => {
    const other = await backend.open();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? store : other).ledger.record({
          tenantId: "acme",
          model: "echo",
          inputTokens: i + 1,
          costUsd: 0.01,
          idempotencyKey: "same-key",
        }),
      ),
    );
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(results.filter((r) => r.duplicate)).toHaveLength(19);
    const winner = results.find((r) => !r.duplicate)!.row;
    for (const result of results) expect(result.row).toEqual(winner);
    const stored = await backend.raw("SELECT id, input_tokens FROM llm_relay_usage WHERE idempotency_key = ?", [
      "same-key",
    ]);
    expect(stored).toEqual([{ id: winner.id, input_tokens: winner.inputTokens }]);
    expect(await store.ledger.spend({ tenant: "acme" }, 0)).toBeCloseTo(0.01, 10);
  });

  it("rejects an invalid event, naming the field", async () => {
    await expect(store.ledger.record({ model: "echo", inputTokens: -1 })).rejects.toThrow(/inputTokens/);
    await expect(store.ledger.record({ model: "" })).rejects.toThrow(/model/);
    await expect(store.ledger.record({ model: "echo", operation: "bulk" as "batch" })).rejects.toThrow(/operation/);
    await expect(store.ledger.record({ model: "echo", costUsd: Number.POSITIVE_INFINITY })).rejects.toThrow(/costUsd/);
    expect(await backend.raw("SELECT id FROM llm_relay_usage")).toEqual([]);
  });

  describe("summaries and spend", () => {
    beforeEach(async () => {
      const events: UsageEvent[] = [
        {
          tenantId: "acme",
          keyId: "key_a",
          model: "gpt-4o-mini",
          inputTokens: 100,
          outputTokens: 20,
          costUsd: 0.5,
          createdAt: "2026-11-19T23:59:59.999Z",
        },
        {
          tenantId: "acme",
          keyId: "key_a",
          model: "gpt-4o-mini",
          inputTokens: 10,
          outputTokens: 2,
          costUsd: 0.25,
          createdAt: "2026-11-20T00:00:00.000Z",
        },
        {
          tenantId: "acme",
          keyId: "key_b",
          model: "llama3",
          inputTokens: 7,
          outputTokens: 3,
          costUsd: null,
          estimated: true,
          createdAt: "2026-11-20T12:00:00.000Z",
        },
        {
          tenantId: "acme",
          keyId: null,
          model: "gpt-4o-mini",
          inputTokens: 1,
          outputTokens: 1,
          costUsd: 1,
          createdAt: "2026-11-21T06:00:00.000Z",
        },
        {
          tenantId: "beta",
          keyId: "key_c",
          model: "gpt-4o-mini",
          inputTokens: 1000,
          outputTokens: 1000,
          costUsd: 9,
          createdAt: "2026-11-20T06:00:00.000Z",
        },
      ];
      for (const event of events) await store.ledger.record(event);
    });

    it("groups a tenant's usage by model", async () => {
      expect(await store.ledger.summary({ tenant: "acme", groupBy: "model" })).toEqual([
        {
          group: "gpt-4o-mini",
          events: 3,
          inputTokens: 111,
          outputTokens: 23,
          tokens: 134,
          costUsd: 1.75,
          unpriced: 0,
          estimated: false,
        },
        {
          group: "llama3",
          events: 1,
          inputTokens: 7,
          outputTokens: 3,
          tokens: 10,
          costUsd: 0,
          unpriced: 1,
          estimated: true,
        },
      ]);
    });

    it("groups by UTC day, with since inclusive and until exclusive", async () => {
      const days = await store.ledger.summary({ groupBy: "day" });
      expect(days.map((d) => [d.group, d.events, d.costUsd])).toEqual([
        ["2026-11-19", 1, 0.5],
        ["2026-11-20", 3, 9.25],
        ["2026-11-21", 1, 1],
      ]);
      const window = await store.ledger.summary({
        tenant: "acme",
        since: "2026-11-20T00:00:00Z",
        until: new Date("2026-11-21T06:00:00Z"),
        groupBy: "day",
      });
      expect(window).toEqual([
        {
          group: "2026-11-20",
          events: 2,
          inputTokens: 17,
          outputTokens: 5,
          tokens: 22,
          costUsd: 0.25,
          unpriced: 1,
          estimated: true,
        },
      ]);
    });

    it("groups by key, rows without a key first", async () => {
      const keys = await store.ledger.summary({ groupBy: "key" });
      expect(keys.map((k) => [k.group, k.events, k.tokens])).toEqual([
        [null, 1, 2],
        ["key_a", 2, 132],
        ["key_b", 1, 10],
        ["key_c", 1, 2000],
      ]);
      expect(await store.ledger.summary({ keyId: "key_b", groupBy: "model" })).toEqual([
        {
          group: "llama3",
          events: 1,
          inputTokens: 7,
          outputTokens: 3,
          tokens: 10,
          costUsd: 0,
          unpriced: 1,
          estimated: true,
        },
      ]);
      expect(await store.ledger.summary({ tenant: "nobody", groupBy: "key" })).toEqual([]);
    });

    it("adds up a tenant's or a key's spend since a time", async () => {
      expect(await store.ledger.spend({ tenant: "acme" }, 0)).toBeCloseTo(1.75, 10);
      expect(await store.ledger.spend({ tenant: "acme" }, "2026-11-20T00:00:00Z")).toBeCloseTo(1.25, 10);
      expect(await store.ledger.spend({ tenant: "acme" }, "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z")).toBeCloseTo(
        0.25,
        10,
      );
      expect(await store.ledger.spend({ keyId: "key_a" }, Date.parse("2026-11-19T00:00:00Z"))).toBeCloseTo(0.75, 10);
      expect(await store.ledger.spend({ tenant: "beta", keyId: "key_a" }, 0)).toBe(0);
      expect(await store.ledger.spend({ keyId: "key_b" }, 0)).toBe(0);
    });
  });
});
