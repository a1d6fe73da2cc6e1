/**
 * Several writers on one PostgreSQL: two PgStore instances (two pools, as
 * two `serve` processes would have) recording one conversation at once.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PgStore } from "../../src/recording/postgres/pg-store.js";
import type { ExchangeRecord } from "../../src/recording/types.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { conversationRecords } from "../helpers/records.js";

let schema: TestSchema;
let stores: PgStore[] = [];
beforeEach(async () => {
  schema = await createTestSchema();
  stores = [];
});
afterEach(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await schema.drop();
});

/** Opens `n` stores on the schema at once (their migrations race, too). */
async function openStores(n: number): Promise<PgStore[]> {
  stores = await Promise.all(Array.from({ length: n }, () => PgStore.open(schema.url, { max: 3 })));
  return stores;
}

/** Writes `records` one batch of `batchSize` at a time, in order. */
async function writeAll(store: PgStore, records: readonly ExchangeRecord[], batchSize = 1): Promise<void> {
  for (let i = 0; i < records.length; i += batchSize) await store.writeBatch(records.slice(i, i + batchSize));
}

/** What the database holds of the conversation. */
async function summary() {
  return {
    conversations: await schema.count("SELECT * FROM conversations"),
    threads: await schema.count("SELECT * FROM threads"),
    exchanges: await schema.count("SELECT * FROM llm_relay_exchanges"),
    turns: await schema.count("SELECT * FROM turns"),
    liveResponses: await schema.count("SELECT * FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id"),
    conversationIdsOfLiveRows: await schema.count("SELECT DISTINCT conversation_id FROM responses"),
    migrations: await schema.count("SELECT * FROM llm_relay_pg_migrations"),
  };
}

describe("two PgStores extending the same conversation at once", () => {
  it("record 100 exchanges (50 each, alternating turns) into one conversation", async () => {
    const [a, b] = await openStores(2);
    const records = conversationRecords(100);
    await Promise.all([
      writeAll(
        a!,
        records.filter((_, i) => i % 2 === 0),
      ),
      writeAll(
        b!,
        records.filter((_, i) => i % 2 === 1),
      ),
    ]);
    const s = await summary();
    expect(s).toEqual({
      conversations: 1,
      threads: 1,
      exchanges: 100,
      turns: s.turns,
      liveResponses: 100,
      conversationIdsOfLiveRows: 1,
      migrations: 7,
    });
    // One turn per exchange, and one per history row (those of whichever exchange started the conversation).
    const historyRows = await schema.count(
      "SELECT * FROM responses r WHERE NOT EXISTS (SELECT 1 FROM llm_relay_exchanges e WHERE e.response_id = r.id)",
    );
    expect(historyRows).toBeGreaterThanOrEqual(5);
    expect(s.turns).toBe(100 + historyRows);
    const ids = (
      await schema.rows<{ id: string }>(
        "SELECT r.id FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id ORDER BY r.id",
      )
    ).map((r) => r.id);
    expect(ids).toEqual(records.map((r) => r.id));
    // The thread's tip is the newest turn's reply, whatever order the two stores committed in.
    const [tip] = await schema.rows<{ same: boolean }>(
      `SELECT t.tip_message_hash = tu.tip_message_hash AS same FROM threads t JOIN turns tu ON tu.id = '${records[99]!.id}'`,
    );
    expect(tip!.same).toBe(true);
    const [last] = await schema.rows<{ text: string }>(
      `SELECT p.text FROM threads t JOIN parts p ON p.message_hash = t.tip_message_hash`,
    );
    expect(last!.text).toBe("answer 99");
  });

  it("join one conversation when the exchanges arrive shuffled, in batches, from four stores", async () => {
    const writers = await openStores(4);
    const records = conversationRecords(100);
    // A deterministic shuffle: later exchanges often land before earlier ones.
    const order = records.map((_, i) => i).sort((x, y) => ((x * 37) % 101) - ((y * 37) % 101));
    const shares = writers.map((_, w) => order.filter((_, k) => k % writers.length === w).map((i) => records[i]!));
    await Promise.all(writers.map((store, w) => writeAll(store, shares[w]!, 3)));
    const s = await summary();
    expect(s).toMatchObject({
      conversations: 1,
      threads: 1,
      exchanges: 100,
      liveResponses: 100,
      conversationIdsOfLiveRows: 1,
    });
    // One turn per exchange, and one per history row (those of whichever exchange was recorded first, the one that started the conversation).
    const historyRows = await schema.count(
      "SELECT * FROM responses r WHERE NOT EXISTS (SELECT 1 FROM llm_relay_exchanges e WHERE e.response_id = r.id)",
    );
    expect(s.turns).toBe(100 + historyRows);
    const [tipText] = await schema.rows<{ text: string }>(
      `SELECT p.text FROM threads t JOIN parts p ON p.message_hash = t.tip_message_hash`,
    );
    expect(tipText!.text).toBe("answer 99");
  });

  it("create one conversation per distinct new conversation even when the same one is sent to both at once", async () => {
    const [a, b] = await openStores(2);
    const first = conversationRecords(1)[0]!;
    const twin = { ...first, id: conversationRecords(1)[0]!.id, requestId: "req-twin" };
    await Promise.all([a!.writeBatch([first]), b!.writeBatch([twin])]);
    // Two identical requests are two exchanges: as on one SQLite file, the second forks a conversation of its own
    // (the first one's thread has moved on to its reply), and the shared history messages are stored once.
    expect(await schema.count("SELECT * FROM llm_relay_exchanges")).toBe(2);
    expect(await schema.count("SELECT * FROM threads")).toBe(2);
    expect(await schema.count("SELECT * FROM messages")).toBe(13);
    expect(await schema.count("SELECT * FROM parts")).toBe(13);
  });

  it("fork identical requests whichever is recorded first", async () => {
    const [a, b] = await openStores(2);
    const first = conversationRecords(1)[0]!;
    const twin = { ...first, id: conversationRecords(1)[0]!.id, requestId: "req-twin" };
    await b!.writeBatch([twin]); // the later exchange lands first
    await a!.writeBatch([first]);
    expect(await schema.count("SELECT * FROM threads")).toBe(2);
    expect(await schema.count("SELECT * FROM conversations")).toBe(2);
  });
});
