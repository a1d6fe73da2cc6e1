/**
 * PostgreSQL's full-text search of the browser asks the GIN index first: on an analyzed table of
 * 3,000 responses, a rare word's statements read the index's bitmap and never walk `responses_pkey`
 * computing `to_tsvector` row by row (the plan that took 10.9 s on 1M rows). And the two ways a
 * search is answered — from the index's matches, or by the walk newest first once the probe is
 * full — list and count the same pages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openBrowseStore } from "../../src/browse/open.js";
import * as sql from "../../src/browse/browse-sql.js";
import type { BrowseFilter, BrowseStore, Page } from "../../src/browse/types.js";
import { numberedPlaceholders } from "../../src/recording/log-query-sql.js";
import { PgStore } from "../../src/recording/postgres/pg-store.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";

const ROWS = 3000;
/** Rows whose prompt holds "quixotic": i % 500 = 7 (6 rows). "walrus": i % 10 = 3 (300 rows). Every row: "function". */
const rare = (i: number) => i % 500 === 7;
const medium = (i: number) => i % 10 === 3;
const rowId = (i: number) => `01j${String(i).padStart(23, "0")}`;

let schema: TestSchema;
let probed: BrowseStore;
let walked: BrowseStore;

beforeAll(async () => {
  schema = await createTestSchema();
  await (await PgStore.open(schema.url)).close();
  await schema.sql.unsafe(`INSERT INTO conversations (id, name, model)
    SELECT 'c' || lpad(g::text, 4, '0'), NULL, CASE WHEN g % 2 = 0 THEN 'm-even' ELSE 'm-odd' END
    FROM generate_series(0, 299) AS g`);
  await schema.sql.unsafe(`INSERT INTO responses (id, model, prompt, response, conversation_id, datetime_utc)
    SELECT '01j' || lpad(i::text, 23, '0'), CASE WHEN (i % 300) % 2 = 0 THEN 'm-even' ELSE 'm-odd' END,
      'a question about function number ' || i
        || CASE WHEN i % 500 = 7 THEN ' quixotic' ELSE '' END || CASE WHEN i % 10 = 3 THEN ' walrus' ELSE '' END,
      'the answer ' || i, 'c' || lpad((i % 300)::text, 4, '0'),
      to_char(timestamp '2026-01-01' + i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS')
    FROM generate_series(0, ${ROWS - 1}) AS i`);
  // Statistics of one bucket keep the lexemes of most rows only: "quixotic" is missing from them, as a
  // rare word is from the sample of 1M rows, and the planner guesses it at 0.5 % of the rows.
  await schema.sql.unsafe("ALTER INDEX llm_relay_idx_responses_search ALTER COLUMN 1 SET STATISTICS 1");
  await schema.sql.unsafe("ANALYZE responses");
  probed = await openBrowseStore({ databaseUrl: schema.url });
  // A probe of 5 matches: any word with more is answered by the walk.
  walked = await openBrowseStore({ databaseUrl: schema.url }, { searchProbe: 5 });
});

afterAll(async () => {
  await probed?.close();
  await walked?.close();
  await schema?.drop();
});

/** The lines of `EXPLAIN ANALYZE` of `statement`. */
async function explain(statement: sql.BrowseStatement): Promise<string[]> {
  const rows = await schema.rows<{ "QUERY PLAN": string }>(
    `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${numberedPlaceholders(statement.text)}`,
    statement.params,
  );
  return rows.map((r) => r["QUERY PLAN"]);
}

/** The plan nodes that ran (not "never executed"), with the filter lines under them. */
function executedScans(lines: string[]): string[] {
  const out: string[] = [];
  lines.forEach((line, i) => {
    if (/Index Scan Backward using responses_pkey|Seq Scan on responses/.test(line) && !/never executed/.test(line))
      out.push([line, lines[i + 1] ?? ""].join("\n"));
  });
  return out;
}

describe("a rare word on PostgreSQL", () => {
  const f = sql.checkFilter({ search: "quixotic" });
  const statements: [string, sql.BrowseStatement][] = [
    ["conversations' matches", sql.searchMatchesStatement(f.search!, "postgres", null, 1)],
    ["conversations' matches after a cursor", sql.searchMatchesStatement(f.search!, "postgres", rowId(2000), 1)],
    ["exchanges page", sql.exchangesStatement(f, "postgres", null, null, 2)],
    ["exchanges page, errors first", sql.exchangesStatement(f, "postgres", "others", null, 2)],
    ["exchanges count", sql.exchangesCountStatement(f, "postgres", 1000)],
    ["exchanges count with a model", sql.exchangesCountStatement({ ...f, model: "m-odd" }, "postgres", 1000)],
  ];

  it.each(statements)("%s: reads the GIN index, walks no table", async (_name, statement) => {
    const lines = await explain(statement);
    const plan = lines.join("\n");
    expect(plan).toMatch(/Bitmap Index Scan on llm_relay_idx_responses_search/);
    expect(executedScans(lines), plan).toEqual([]);
  });

  it("finds its rows through the store, newest first", async () => {
    const want = Array.from({ length: ROWS }, (_, i) => i)
      .filter(rare)
      .reverse()
      .map(rowId);
    const page = await probed.exchanges({ search: "quixotic" }, "newest", { limit: 50 });
    expect(page.items.map((e) => e.id)).toEqual(want);
    expect(page.count).toEqual({ value: want.length, exact: true });
  });
});

/** Every page of a list, following its cursors. */
async function allPages<T>(
  list: (cursor: string | undefined) => Promise<Page<T>>,
): Promise<{ items: T[]; counts: Page<T>["count"][] }> {
  const items: T[] = [];
  const counts: Page<T>["count"][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await list(cursor);
    items.push(...page.items);
    counts.push(page.count);
    if (page.nextCursor === null) return { items, counts };
    cursor = page.nextCursor;
  }
  throw new Error("more than 100 pages");
}

describe("the probe and the walk answer alike", () => {
  const filters: [string, BrowseFilter, (i: number) => boolean][] = [
    ["a medium word", { search: "walrus" }, medium],
    ["a medium word and a model", { search: "walrus", model: "m-odd" }, (i) => medium(i) && (i % 300) % 2 === 1],
    ["two words", { search: "walrus function" }, medium],
  ];

  it.each(filters)("exchanges: %s", async (_name, filter, matches) => {
    const want = Array.from({ length: ROWS }, (_, i) => i)
      .filter(matches)
      .reverse()
      .map(rowId);
    for (const store of [probed, walked]) {
      const got = await allPages((cursor) => store.exchanges(filter, "newest", { limit: 40, cursor }));
      expect(got.items.map((e) => e.id)).toEqual(want);
      expect(got.counts[0]).toEqual({ value: want.length, exact: true });
    }
  });

  it.each(filters)("conversations: %s", async (_name, filter, matches) => {
    // Each conversation once, ordered by its newest match.
    const order: string[] = [];
    for (let i = ROWS - 1; i >= 0; i--) {
      const c = `c${String(i % 300).padStart(4, "0")}`;
      if (matches(i) && !order.includes(c)) order.push(c);
    }
    for (const store of [probed, walked]) {
      const got = await allPages((cursor) => store.conversations(filter, { limit: 7, cursor }));
      expect(got.items.map((c) => c.id)).toEqual(order);
      expect(got.counts[0]).toEqual({ value: order.length, exact: true });
    }
  });

  it("a common word: the walk's plan, counted to the search's cap", async () => {
    const page = await probed.exchanges({ search: "function" }, "newest", { limit: 10 });
    expect(page.items.map((e) => e.id)).toEqual(Array.from({ length: 10 }, (_, i) => rowId(ROWS - 1 - i)));
    expect(page.count).toEqual({ value: 1000, exact: false });
    const lines = await explain(
      sql.exchangesStatement(sql.checkFilter({ search: "function" }), "postgres", null, null, 11),
    );
    expect(lines.join("\n")).toMatch(/One-Time Filter/);
  });
});
