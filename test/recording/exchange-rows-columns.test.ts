/**
 * The row builder's column lists (src/recording/exchange-rows.ts) drive both
 * stores' SQL: every listed column exists in both schemas, and every row the
 * builder produces for a real exchange (history, reasoning reply, attempts)
 * has exactly its table's columns, so a column added to the builder but not
 * to a schema (or the other way round) fails here by name.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  ATTEMPT_COLUMNS,
  CONVERSATION_COLUMNS,
  EXCHANGE_COLUMNS,
  exchangeRows,
  MESSAGE_COLUMNS,
  PART_COLUMNS,
  REPLY_ALIAS_COLUMNS,
  RESPONSE_COLUMNS,
  THREAD_COLUMNS,
  TURN_COLUMNS,
  TURN_SEARCH_COLUMNS,
} from "../../src/recording/exchange-rows.js";
import { ChainHasher } from "../../src/recording/hash-chains.js";
import { analyzeInput } from "../../src/recording/threading.js";
import { aiderBody, recordFor } from "../helpers/records.js";
import { STORE_HARNESSES, type StoreHarness } from "./store-harness.js";

const TABLES: [string, readonly string[]][] = [
  ["messages", MESSAGE_COLUMNS],
  ["parts", PART_COLUMNS],
  ["threads", THREAD_COLUMNS],
  ["conversations", CONVERSATION_COLUMNS],
  ["turns", TURN_COLUMNS],
  ["turn_search", TURN_SEARCH_COLUMNS],
  ["responses", RESPONSE_COLUMNS],
  ["llm_relay_exchanges", EXCHANGE_COLUMNS],
  ["llm_relay_attempts", ATTEMPT_COLUMNS],
  ["llm_relay_reply_aliases", REPLY_ALIAS_COLUMNS],
];

describe.each(STORE_HARNESSES)("%s schema", (_name, make) => {
  let h: StoreHarness | undefined;
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
  });

  it("has every column the row builder lists", async () => {
    h = await make();
    const store = await h.open();
    await store.close();
    const sqlite = _name === "SqliteStore";
    for (const [table, columns] of TABLES) {
      const rows = await h.rows<{ name: string }>(
        sqlite
          ? `SELECT name FROM pragma_table_info('${table}')`
          : `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '${table}'`,
      );
      const present = new Set(rows.map((r) => r.name));
      expect({ table, missing: columns.filter((c) => !present.has(c)) }).toEqual({ table, missing: [] });
    }
  });
});

describe("exchangeRows", () => {
  it("gives each row exactly its table's columns", () => {
    const record = recordFor(aiderBody(), {
      reasoning: "Think first.",
      attempts: [
        {
          model: "m",
          deployment: "d1",
          provider: "echo",
          upstreamModel: "u",
          status: "error",
          httpStatus: 503,
          startedMs: 0,
          durationMs: 10,
          error: "busy",
        },
        {
          model: "m",
          deployment: "d2",
          provider: "echo",
          upstreamModel: "u",
          status: "ok",
          httpStatus: 200,
          startedMs: 10,
          durationMs: 20,
          error: null,
        },
      ],
    });
    const hasher = new ChainHasher();
    const rows = exchangeRows(record, analyzeInput(record.messages, hasher), hasher, null, {
      hasRows: false,
      lastSystem: null,
    });
    const keys = (row: object) => Object.keys(row).sort();
    const sorted = (columns: readonly string[]) => [...columns].sort();

    expect(rows.messages.length).toBeGreaterThan(0);
    for (const m of rows.messages) {
      expect(keys(m).filter((k) => k !== "parts")).toEqual(sorted(MESSAGE_COLUMNS));
      for (const part of m.parts) expect(keys(part)).toEqual(sorted(PART_COLUMNS));
    }
    expect(keys(rows.thread!)).toEqual(sorted(THREAD_COLUMNS));
    expect(keys(rows.conversation!)).toEqual(sorted(CONVERSATION_COLUMNS));
    expect(keys(rows.turn!)).toEqual(sorted(TURN_COLUMNS));
    expect(rows.historyTurns.length).toBeGreaterThan(0);
    for (const t of rows.historyTurns) expect(keys(t)).toEqual(sorted(TURN_COLUMNS));
    for (const s of [rows.turnSearch!, ...rows.historyTurnSearch]) expect(keys(s)).toEqual(sorted(TURN_SEARCH_COLUMNS));
    expect(rows.responses.length).toBe(rows.historyTurns.length + 1);
    for (const r of rows.responses) expect(keys(r)).toEqual(sorted(RESPONSE_COLUMNS));
    expect(keys(rows.exchange)).toEqual(sorted(EXCHANGE_COLUMNS));
    expect(rows.attempts.map((a) => a.attempt)).toEqual([1, 2]);
    for (const a of rows.attempts) expect(keys(a)).toEqual(sorted(ATTEMPT_COLUMNS));
    expect(keys(rows.replyAlias!)).toEqual(sorted(REPLY_ALIAS_COLUMNS));
  });
});
