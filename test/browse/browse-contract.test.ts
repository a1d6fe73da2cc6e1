/**
 * The conversation browser's read model against real stores: one sequence of records written
 * through `SqliteStore` and `PgStore` (`writeBatch`), usage events through the tenancy ledgers, then
 * both BrowseStores asked the same questions: each answer is checked, and PostgreSQL's must equal
 * SQLite's. Then the summary rows after bench-style moves, the backfill of a file written before
 * the summary table existed, and the SQLite query plans (every list from an index).
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rehomeExchange, newBenchConversation } from "../../src/bench/storage/rehome.js";
import { BrowseInputError } from "../../src/browse/errors.js";
import * as sql from "../../src/browse/browse-sql.js";
import { openBrowseStore } from "../../src/browse/open.js";
import type {
  BrowseFilter,
  BrowseStore,
  ConversationDetail,
  ConversationSummary,
  Page,
} from "../../src/browse/types.js";
import { PgStore } from "../../src/recording/postgres/pg-store.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import { PostgresTenancyStore } from "../../src/tenancy/postgres/postgres-tenancy-store.js";
import { SqliteTenancyStore } from "../../src/tenancy/sqlite/sqlite-tenancy-store.js";
import type { UsageEvent } from "../../src/tenancy/types.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { tempDir } from "../helpers/proxy.js";
import { ALL_RECORDS, CLAUDE_RECORD, PAGE_RECORDS, TOOL_RECORDS } from "./browse-records.js";

/** Where counts stop in these stores (small, so a bounded count shows). */
const COUNT_CAP = 8;

/** Ledger events on three days (their own `createdAt`), for the usage report. */
const USAGE_EVENTS: UsageEvent[] = [
  {
    model: "m-a",
    tenantId: "acme",
    keyId: "key_1",
    inputTokens: 10,
    outputTokens: 1,
    costUsd: 0.5,
    createdAt: "2026-10-01T10:00:00Z",
  },
  {
    model: "m-a",
    tenantId: "acme",
    keyId: "key_1",
    inputTokens: 20,
    outputTokens: 2,
    costUsd: 0.25,
    createdAt: "2026-10-01T23:59:59Z",
  },
  {
    model: "m-b",
    tenantId: "acme",
    keyId: null,
    inputTokens: 5,
    outputTokens: 5,
    costUsd: null,
    createdAt: "2026-10-02T00:00:00Z",
  },
  {
    model: "m-a",
    tenantId: "beta",
    keyId: "key_2",
    inputTokens: 1,
    outputTokens: 1,
    costUsd: 1,
    createdAt: "2026-10-03T12:00:00Z",
  },
  {
    model: "m-a",
    tenantId: "beta",
    keyId: "key_2",
    inputTokens: 7,
    outputTokens: 7,
    costUsd: 1,
    createdAt: "2026-10-04T12:00:00Z",
  },
];

let dir: string;
let dbPath: string;
let schema: TestSchema;
let lite: BrowseStore;
let pg: BrowseStore;

beforeAll(async () => {
  dir = tempDir();
  dbPath = path.join(dir, "logs.db");
  schema = await createTestSchema();
  const sqliteStore = SqliteStore.open(dbPath);
  const pgStore = await PgStore.open(schema.url);
  try {
    for (const record of ALL_RECORDS) {
      sqliteStore.writeBatch([record]);
      await pgStore.writeBatch([record]);
    }
  } finally {
    sqliteStore.close();
    await pgStore.close();
  }
  const liteLedger = SqliteTenancyStore.open(dbPath);
  const pgLedger = await PostgresTenancyStore.open(schema.url, { max: 1 });
  try {
    for (const event of USAGE_EVENTS) {
      await liteLedger.ledger.record(event);
      await pgLedger.ledger.record(event);
    }
  } finally {
    await liteLedger.close();
    await pgLedger.close();
  }
  lite = await openBrowseStore({ dbPath }, { countCap: COUNT_CAP });
  pg = await openBrowseStore({ databaseUrl: schema.url }, { countCap: COUNT_CAP });
}, 60_000);

afterAll(async () => {
  await lite?.close();
  await pg?.close();
  await schema?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Each store's conversation ids (made by the store) → a name both share: `conv@` + the conversation's
 * first response id (the records' own ids).
 */
async function conversationNames(store: "sqlite" | "pg"): Promise<Map<string, string>> {
  const query = `SELECT conversation_id AS c, min(id) AS first FROM responses WHERE conversation_id IS NOT NULL GROUP BY conversation_id`;
  let rows: { c: string; first: string }[];
  if (store === "pg") rows = await schema.rows(query);
  else {
    const db = new Database(dbPath, { readonly: true });
    try {
      rows = db.prepare(query).all() as { c: string; first: string }[];
    } finally {
      db.close();
    }
  }
  return new Map(rows.map((r) => [r.c, `conv@${r.first}`]));
}

/** `value` with conversation ids named as {@link conversationNames} does and cursors reduced to their presence. */
function canonical(value: unknown, names: Map<string, string>): unknown {
  if (typeof value === "string") return names.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => canonical(v, names));
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === "nextCursor" && v !== null ? "<cursor>" : canonical(v, names)]),
    );
  return value;
}

/** Asks both stores; PostgreSQL's answer must equal SQLite's (conversation ids named alike), which is returned. */
async function both<T>(ask: (store: BrowseStore) => Promise<T>): Promise<T> {
  const fromSqlite = await ask(lite);
  const fromPg = await ask(pg);
  expect(canonical(fromPg, await conversationNames("pg"))).toEqual(
    canonical(fromSqlite, await conversationNames("sqlite")),
  );
  return fromSqlite;
}

const ids = <T extends { id: string }>(page: Page<T>): string[] => page.items.map((item) => item.id);
/** The conversation of an exchange, in the SQLite store. */
const conversationOf = async (store: BrowseStore, id: string): Promise<string> =>
  (await store.exchange(id))!.turn.exchange.conversationId!;
const descending = (values: string[]): string[] => [...values].sort().reverse();

/** Every page of a list in each store, following its own `nextCursor`; both must list the same. */
async function allPages<T extends { id: string }>(
  page: (store: BrowseStore, cursor: string | null) => Promise<Page<T>>,
): Promise<{ pages: string[][]; counts: Page<T>["count"][] }> {
  const walk = async (store: BrowseStore) => {
    const pages: string[][] = [];
    const counts: Page<T>["count"][] = [];
    let cursor: string | null = null;
    do {
      const got: Page<T> = await page(store, cursor);
      pages.push(ids(got));
      counts.push(got.count);
      cursor = got.nextCursor;
    } while (cursor !== null && pages.length < 20);
    return { pages, counts };
  };
  const fromSqlite = await walk(lite);
  const conversationPages = await walk(pg);
  const names = await conversationNames("pg");
  const liteNames = await conversationNames("sqlite");
  expect(canonical(conversationPages, names)).toEqual(canonical(fromSqlite, liteNames));
  return fromSqlite;
}

describe("BrowseStore on SQLite and PostgreSQL (the same records)", () => {
  it("lists conversations newest first, with their summary from the last exchange", async () => {
    const page = await both((s) => s.conversations({}, { limit: 50 }));
    expect(page.items).toHaveLength(9);
    expect(page.items.map((c) => c.lastResponseId)).toEqual(descending(page.items.map((c) => c.lastResponseId)));
    expect(page.count).toEqual({ value: COUNT_CAP, exact: false });
    expect(page.nextCursor).toBeNull();
    const [claude, tools] = page.items as [ConversationSummary, ConversationSummary];
    expect(claude).toMatchObject({
      model: "m-claude",
      protocol: "messages",
      tenantId: "acme",
      keyId: "key_claude",
      turns: 1,
      lastStatus: "ok",
      lastResponseId: CLAUDE_RECORD.id,
    });
    expect(tools).toMatchObject({
      model: "m-tools",
      protocol: "chat",
      client: "agent/1.0",
      turns: 3,
      inputTokens: 100 + 900,
      lastStatus: "error",
      lastResponseId: TOOL_RECORDS[2]!.id,
      firstUtc: expect.stringMatching(/^2026-/) as string,
    });
    expect(tools.costUsd).toBeCloseTo(0.03, 10);
    expect(tools.name).toMatch(/what is in this picture/);
  });

  it.each<[string, BrowseFilter, number]>([
    ["model", { model: "m-page" }, 7],
    ["status", { status: "error" }, 1],
    ["provider", { provider: "openai-compatible" }, 3],
    ["protocol", { protocol: "messages" }, 1],
    ["tenant", { tenant: "acme" }, 4],
    ["key", { keyId: "key_acme" }, 3],
    ["search", { search: "zebra" }, 7],
    ["search and tenant", { search: "zebra", tenant: "acme" }, 3],
  ])("filters conversations by %s", async (_name, filter, n) => {
    const page = await both((s) => s.conversations(filter, { limit: 50 }));
    expect(page.items).toHaveLength(n);
    expect(page.count).toEqual({ value: Math.min(n, COUNT_CAP), exact: n <= COUNT_CAP });
    for (const c of page.items) {
      if (filter.model) expect(c.model).toBe(filter.model);
      if (filter.status) expect(c.lastStatus).toBe(filter.status);
      if (filter.provider) expect(c.provider).toBe(filter.provider);
      if (filter.protocol) expect(c.protocol).toBe(filter.protocol);
      if (filter.tenant) expect(c.tenantId).toBe(filter.tenant);
      if (filter.keyId) expect(c.keyId).toBe(filter.keyId);
    }
  });

  it("filters by time: since is inclusive, until exclusive, on the last activity", async () => {
    const third = PAGE_RECORDS[2]!;
    const fifth = PAGE_RECORDS[4]!;
    const iso = (ms: number) => new Date(ms).toISOString();
    const page = await both((s) =>
      s.conversations({ since: iso(third.startedAt), until: iso(fifth.startedAt) }, { limit: 50 }),
    );
    expect(page.items.map((c) => c.lastResponseId)).toEqual([PAGE_RECORDS[3]!.id, third.id]);
    const exchanges = await both((s) =>
      s.exchanges({ since: iso(third.startedAt), until: iso(fifth.startedAt) }, "newest", { limit: 50 }),
    );
    expect(ids(exchanges)).toEqual([PAGE_RECORDS[3]!.id, third.id]);
  });

  it("pages through conversations and exchanges by keyset, three pages, no duplicate and no gap", async () => {
    const all = ids(await both((s) => s.conversations({ model: "m-page" }, { limit: 50 })));
    const conv = await allPages((s, cursor) => s.conversations({ model: "m-page" }, { limit: 3, cursor }));
    expect(conv.pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(conv.pages.flat()).toEqual(all);
    expect(conv.counts).toEqual([{ value: 7, exact: true }, null, null]);

    const exchangeAll = ids(await both((s) => s.exchanges({ model: "m-page" }, "newest", { limit: 50 })));
    expect(exchangeAll).toEqual(descending(PAGE_RECORDS.map((r) => r.id)));
    const ex = await allPages((s, cursor) => s.exchanges({ model: "m-page" }, "newest", { limit: 3, cursor }));
    expect(ex.pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(ex.pages.flat()).toEqual(exchangeAll);

    // A filter on an exchange column pages over its own index.
    const acme = await allPages((s, cursor) => s.exchanges({ tenant: "acme" }, "newest", { limit: 2, cursor }));
    expect(acme.pages.flat()).toEqual(
      descending([...PAGE_RECORDS.filter((_, i) => i % 2 === 1).map((r) => r.id), CLAUDE_RECORD.id]),
    );
    expect(acme.pages.map((p) => p.length)).toEqual([2, 2]);
  });

  it("lists errors first, then the others newest first, across pages", async () => {
    const every = ids(await both((s) => s.exchanges({}, "newest", { limit: 200 })));
    const paged = await allPages((s, cursor) => s.exchanges({}, "errors-first", { limit: 4, cursor }));
    const flat = paged.pages.flat();
    expect(flat[0]).toBe(TOOL_RECORDS[2]!.id);
    expect(flat.slice(1)).toEqual(every.filter((id) => id !== TOOL_RECORDS[2]!.id));
    expect(new Set(flat).size).toBe(flat.length);
    // A page that ends exactly where the errors end.
    const one = await both((s) => s.exchanges({}, "errors-first", { limit: 1 }));
    expect(ids(one)).toEqual([TOOL_RECORDS[2]!.id]);
    const next = await both((s) => s.exchanges({}, "errors-first", { limit: 1, cursor: one.nextCursor }));
    expect(ids(next)).toEqual([every.find((id) => id !== TOOL_RECORDS[2]!.id)]);
  });

  it("bounds the counts", async () => {
    const page = await both((s) => s.exchanges({}, "newest", { limit: 1 }));
    expect(page.count).toEqual({ value: COUNT_CAP, exact: false });
    expect((await both((s) => s.exchanges({ model: "m-page" }, "newest", { limit: 1 }))).count).toEqual({
      value: 7,
      exact: true,
    });
  });

  it("searches words, and takes FTS syntax characters as plain text", async () => {
    const zebra = ids(await both((s) => s.exchanges({ search: "zebra" }, "newest", { limit: 50 })));
    expect(zebra).toEqual(descending(PAGE_RECORDS.map((r) => r.id)));
    for (const search of ['"zebra', "zebra*", "(zebra", 'zebra" OR cat', "ZEBRA  question"]) {
      const found = ids(await both((s) => s.exchanges({ search }, "newest", { limit: 50 })));
      expect(found, search).toEqual(search.includes("OR") ? [] : zebra);
    }
    const paged = await allPages((s, cursor) => s.exchanges({ search: "zebra" }, "newest", { limit: 3, cursor }));
    expect(paged.pages.flat()).toEqual(zebra);
    expect(ids(await both((s) => s.exchanges({ search: "answer 3" }, "newest", { limit: 50 })))).toEqual([
      PAGE_RECORDS[3]!.id,
    ]);
    expect(await both((s) => s.conversations({ search: '"(*' }, { limit: 1 }))).toMatchObject({
      items: [expect.anything()],
    });
  });

  it("pages a conversation's turns by cursor: the same turns as one page, only the first with its whole request", async () => {
    const whole = (await both(async (s) => s.conversation(await conversationOf(s, TOOL_RECORDS[0]!.id))))!;
    expect(whole.turns.length).toBeGreaterThan(2);
    const paged = await both(async (s) => {
      const id = await conversationOf(s, TOOL_RECORDS[0]!.id);
      const pages: ConversationDetail[] = [];
      let cursor: string | null = null;
      do {
        const page: ConversationDetail = (await s.conversation(id, { limit: 2, cursor }))!;
        pages.push(page);
        cursor = page.nextCursor;
      } while (cursor !== null && pages.length < 10);
      return pages;
    });
    expect(paged.map((page) => page.turns.length)).toEqual(
      Array.from({ length: Math.ceil(whole.turns.length / 2) }, (_, i) => Math.min(2, whole.turns.length - 2 * i)),
    );
    expect(paged.flatMap((page) => page.turns)).toEqual(whole.turns);
    await expect(lite.conversation(whole.summary.id, { cursor: "not a cursor" })).rejects.toThrow(/malformed cursor/);
  });

  it("shows a conversation's turns: image, reasoning, tool call, tool result, and an error turn", async () => {
    const detail = (await both(async (s) => s.conversation(await conversationOf(s, TOOL_RECORDS[0]!.id))))!;
    expect(detail.nextCursor).toBeNull();
    expect(detail.turns.map((t) => t.exchange.id)).toEqual(TOOL_RECORDS.map((r) => r.id));
    const [t1, t2, t3] = detail.turns;
    expect(t1!.input).toEqual([
      { role: "system", parts: [{ type: "text", text: "You describe pictures." }] },
      {
        role: "user",
        parts: [
          { type: "text", text: "what is in this picture" },
          { type: "image", url: "data:image/png;base64,iVBORw0KGgo=" },
          { type: "image", url: "https://example.com/cat.png" },
        ],
      },
    ]);
    expect(t1!.output).toEqual({
      role: "assistant",
      parts: [
        { type: "reasoning", text: "I should look it up." },
        { type: "tool_call", id: "call_1", name: "lookup", arguments: '{"q":"cat"}' },
      ],
    });
    expect(t1!.exchange).toMatchObject({ cachedTokens: 64, reasoningTokens: 12, client: "agent/1.0", status: "ok" });
    expect(t2!.input).toEqual([
      { role: "tool", parts: [{ type: "tool_result", toolCallId: "call_1", name: null, content: "a cat on a mat" }] },
    ]);
    expect(t2!.output).toEqual({ role: "assistant", parts: [{ type: "text", text: "It is a cat." }] });
    expect(t3!.input).toEqual([{ role: "user", parts: [{ type: "text", text: "and the mat?" }] }]);
    expect(t3!.output).toBeNull();
    expect(t3!.exchange).toMatchObject({ status: "error", httpStatus: 502, error: "upstream failed", attempts: 2 });
    expect(await both((s) => s.conversation("01nosuchconversation00000000"))).toBeNull();
  });

  it("shows an exchange with its two attempts and raw JSON, and an Anthropic request as chat", async () => {
    const detail = (await both((s) => s.exchange(TOOL_RECORDS[2]!.id)))!;
    expect(detail.attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        status: "timeout",
        deployment: "primary",
        httpStatus: null,
        durationMs: 1000,
      }),
      expect.objectContaining({ attempt: 2, status: "error", deployment: "backup", httpStatus: 502, startedMs: 1001 }),
    ]);
    expect(detail.responseJson).toEqual({ error: { message: "upstream failed", type: "upstream_error" } });
    expect(detail.requestJson).toMatchObject({ model: "m-tools" });
    expect(detail.turn.input).toEqual([{ role: "user", parts: [{ type: "text", text: "and the mat?" }] }]);

    const claude = (await both((s) => s.exchange(CLAUDE_RECORD.id)))!;
    expect(claude.turn.exchange).toMatchObject({ protocol: "messages", tenantId: "acme", keyId: "key_claude" });
    expect(claude.turn.input).toEqual([
      { role: "system", parts: [{ type: "text", text: "be brief" }] },
      { role: "user", parts: [{ type: "text", text: "hello claude" }] },
    ]);
    expect(claude.turn.output).toEqual({ role: "assistant", parts: [{ type: "text", text: "Hello." }] });
    expect(await both((s) => s.exchange("01nosuchexchange0000000000"))).toBeNull();
  });

  it("reports usage per day by model, tenant and key from the daily roll-up", async () => {
    const byModel = await both((s) => s.usage("model", "2026-10-01", "2026-10-04"));
    expect(byModel).toEqual({
      since: "2026-10-01",
      until: "2026-10-04",
      by: "model",
      rows: [
        { day: "2026-10-01", group: "m-a", requests: 2, inputTokens: 30, outputTokens: 3, costUsd: 0.75 },
        { day: "2026-10-02", group: "m-b", requests: 1, inputTokens: 5, outputTokens: 5, costUsd: 0 },
        { day: "2026-10-03", group: "m-a", requests: 1, inputTokens: 1, outputTokens: 1, costUsd: 1 },
      ],
    });
    const byTenant = await both((s) => s.usage("tenant", "2026-10-01", "2026-10-05"));
    expect(byTenant.rows.map((r) => [r.day, r.group, r.requests])).toEqual([
      ["2026-10-01", "acme", 2],
      ["2026-10-02", "acme", 1],
      ["2026-10-03", "beta", 1],
      ["2026-10-04", "beta", 1],
    ]);
    const byKey = await both((s) => s.usage("key", "2026-10-02", "2026-10-04"));
    expect(byKey.rows.map((r) => [r.day, r.group])).toEqual([
      ["2026-10-02", null],
      ["2026-10-03", "key_2"],
    ]);
    await expect(lite.usage("model", "yesterday", "2026-10-04")).rejects.toThrow(BrowseInputError);
  });

  it("lists the filter menus' values", async () => {
    expect(await both((s) => s.facets())).toEqual({
      models: ["m-claude", "m-page", "m-tools"],
      providers: ["echo", "openai-compatible"],
      protocols: ["chat", "messages"],
      tenants: ["acme", "default"],
      keyIds: ["key_acme", "key_claude"],
    });
  });

  it("rejects a malformed cursor, an unknown status and a bad date", async () => {
    for (const store of [lite, pg]) {
      await expect(store.conversations({}, { cursor: "not a cursor!" })).rejects.toThrow(BrowseInputError);
      await expect(store.exchanges({}, "newest", { cursor: "WyJ4Il0" })).rejects.toThrow(BrowseInputError);
      await expect(store.exchanges({ status: "weird" as "ok" }, "newest", {})).rejects.toThrow(BrowseInputError);
      await expect(store.conversations({ since: "last week" }, {})).rejects.toThrow(BrowseInputError);
      await expect(store.conversations({}, { limit: 0 })).rejects.toThrow(BrowseInputError);
    }
  });

  it("keeps the summary row true after bench-style moves (conversation_id updated, rows deleted)", async () => {
    const before = new Map<BrowseStore, [string, string]>();
    for (const store of [lite, pg])
      before.set(store, [
        await conversationOf(store, PAGE_RECORDS[0]!.id),
        await conversationOf(store, TOOL_RECORDS[0]!.id),
      ]);
    const moved = [TOOL_RECORDS[1]!.id, PAGE_RECORDS[0]!.id];
    // The first tool turn deleted with every row that points at it.
    const deleteFirstTurn = [
      "tool_calls",
      "tool_responses",
      "tool_results",
      "llm_relay_attempts",
      "llm_relay_exchanges",
    ]
      .map((table) => `DELETE FROM ${table} WHERE response_id = '${TOOL_RECORDS[0]!.id}'`)
      .concat(`DELETE FROM responses WHERE id = '${TOOL_RECORDS[0]!.id}'`);
    // SQLite: bench's own rehome; PostgreSQL: the same moves in SQL.
    const db = new Database(dbPath);
    try {
      const target = newBenchConversation("run1", "case", "m-tools");
      for (const id of moved) expect(rehomeExchange(db, id, target)).toBe(true);
      for (const statement of deleteFirstTurn) db.exec(statement);
    } finally {
      db.close();
    }
    await schema.sql.unsafe(`INSERT INTO conversations (id, name, model) VALUES ('01pgbench', 'bench', 'm-tools')`);
    await schema.sql.unsafe(`UPDATE responses SET conversation_id = '01pgbench' WHERE id IN ($1, $2)`, moved);
    for (const statement of deleteFirstTurn) await schema.sql.unsafe(statement);

    for (const store of [lite, pg]) {
      const [pageConversation, toolConversation] = before.get(store)!;
      const tools = (await store.conversation(toolConversation))!.summary;
      expect(tools).toMatchObject({
        turns: 1,
        lastResponseId: TOOL_RECORDS[2]!.id,
        lastStatus: "error",
        costUsd: null,
      });
      expect(tools.inputTokens).toBe(0);
      expect(await store.conversation(pageConversation)).toBeNull();
      const exchange = (await store.exchange(TOOL_RECORDS[1]!.id))!.turn.exchange;
      const bench = (await store.conversation(exchange.conversationId!))!.summary;
      expect(bench).toMatchObject({
        turns: 2,
        lastResponseId: TOOL_RECORDS[1]!.id,
        model: "m-tools",
        lastStatus: "ok",
      });
      expect(bench.costUsd).toBeCloseTo(0.021, 10);
      expect(bench.inputTokens).toBe(900 + 10);
      expect(await store.exchange(TOOL_RECORDS[0]!.id)).toBeNull();
    }
    // The summary table equals a recomputation from the rows, on both.
    const recomputed = `SELECT r.conversation_id AS id, count(*) AS turns, sum(coalesce(r.input_tokens, 0)) AS inp, max(r.id) AS last
      FROM responses r WHERE r.conversation_id IS NOT NULL GROUP BY r.conversation_id ORDER BY 1`;
    const kept = `SELECT conversation_id AS id, turns, input_tokens AS inp, last_response_id AS last FROM llm_relay_conversation_stats ORDER BY 1`;
    const check = new Database(dbPath, { readonly: true });
    try {
      expect(check.prepare(kept).all()).toEqual(check.prepare(recomputed).all());
    } finally {
      check.close();
    }
    const norm = (rows: Record<string, unknown>[]) =>
      rows.map((r) => ({ ...r, turns: Number(r.turns), inp: Number(r.inp) }));
    expect(norm(await schema.rows(kept))).toEqual(norm(await schema.rows(recomputed)));
  });
});

describe("the summary tables of a file written before they existed", () => {
  it("are backfilled when the file is opened", async () => {
    const file = path.join(dir, "old.db");
    const store = SqliteStore.open(file);
    for (const record of ALL_RECORDS) store.writeBatch([record]);
    store.close();
    const ledger = SqliteTenancyStore.open(file);
    for (const event of USAGE_EVENTS) await ledger.ledger.record(event);
    await ledger.close();
    const snapshot = (f: string) => {
      const db = new Database(f, { readonly: true });
      try {
        return [
          db.prepare(`SELECT * FROM llm_relay_conversation_stats ORDER BY conversation_id`).all(),
          db.prepare(`SELECT * FROM llm_relay_usage_daily ORDER BY day, tenant_id, key_id, model`).all(),
        ];
      } finally {
        db.close();
      }
    };
    const before = snapshot(file);
    expect((before[0] as unknown[]).length).toBe(9);
    const db = new Database(file);
    db.exec(`DROP TABLE llm_relay_conversation_stats; DROP TABLE llm_relay_usage_daily;`);
    db.close();
    const browse = await openBrowseStore({ dbPath: file });
    await browse.close();
    expect(snapshot(file)).toEqual(before);
  });
});

describe("the SQLite query plans", () => {
  /** The plan lines of a statement on the contract's file. */
  function plan(statement: sql.BrowseStatement): string[] {
    const db = new Database(dbPath, { readonly: true });
    try {
      return (db.prepare(`EXPLAIN QUERY PLAN ${statement.text}`).all(...statement.params) as { detail: string }[]).map(
        (r) => r.detail,
      );
    } finally {
      db.close();
    }
  }
  const filters: BrowseFilter[] = [
    {},
    { model: "m" },
    { status: "error" },
    { status: "history" },
    { provider: "p" },
    { protocol: "chat" },
    { tenant: "t" },
    { keyId: "k" },
    { since: "2026-01-01", until: "2026-02-01" },
    { search: "zebra" },
  ];

  it.each(filters.map((f) => [JSON.stringify(f), f] as const))("lists and counts from indexes: %s", (_n, filter) => {
    const f = sql.checkFilter(filter);
    const after = filter.search ? "99" : "01zzzzzzzzzzzzzzzzzzzzzzzz";
    const lists = [
      sql.conversationsStatement(f, "sqlite", after, 51),
      sql.exchangesStatement(f, "sqlite", null, after, 51),
      sql.exchangesStatement(f, "sqlite", "errors", after, 51),
      sql.exchangesStatement(f, "sqlite", "others", after, 51),
    ];
    for (const statement of filter.search ? lists.slice(1) : lists) {
      const lines = plan(statement);
      expect(lines.join("\n"), statement.text).not.toMatch(/SCAN (r|s|e|responses|llm_relay_\w+)(\s|$)(?!USING)/);
      expect(lines.join("\n"), statement.text).not.toMatch(/TEMP B-TREE/);
    }
    for (const statement of [
      sql.conversationsCountStatement(f, "sqlite", 10_000),
      sql.exchangesCountStatement(f, "sqlite", 10_000),
    ]) {
      const lines = plan(statement).join("\n");
      if (Object.keys(filter).length > 0) expect(lines, statement.text).not.toMatch(/SCAN (r|s|e)(\s|$)(?!USING)/);
    }
  });

  it("finds a conversation's turns, an exchange, the usage days and the facets by index", () => {
    const lines = [
      ...plan({ text: sql.CONVERSATION_TURNS, params: ["c", 1001] }),
      ...plan({ text: sql.EXCHANGE_BY_ID, params: ["x"] }),
      ...plan({ text: sql.CONVERSATION_BY_ID, params: ["c"] }),
      ...plan(sql.usageStatement("model", "2026-01-01", "2026-02-01")),
      ...plan({ text: sql.facetStatement("responses", "model"), params: [] }),
      ...plan({ text: sql.facetStatement("llm_relay_exchanges", "tenant_id"), params: [] }),
    ].join("\n");
    expect(lines).not.toMatch(/SCAN (r|s|e|responses|llm_relay_\w+)(\s|$)(?!USING)/);
    expect(lines).toMatch(/SEARCH r USING INDEX llm_relay_idx_responses_conversation/);
    expect(lines).toMatch(/SEARCH llm_relay_usage_daily USING INDEX \S+ \(day>\? AND day<\?\)/);
  });
});
