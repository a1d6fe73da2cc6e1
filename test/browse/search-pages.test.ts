/**
 * A conversations search ordered by each conversation's newest match, paged one conversation at a
 * time on SQLite and PostgreSQL: a conversation with an older match further down is not listed
 * again, and the bounded count holds all of them.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openBrowseStore } from "../../src/browse/open.js";
import type { BrowseStore } from "../../src/browse/types.js";
import type { ChatMessage } from "../../src/protocol/chat-request.js";
import { PgStore } from "../../src/recording/postgres/pg-store.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { tempDir } from "../helpers/proxy.js";
import { recordFor } from "../helpers/records.js";

const user = (content: string): ChatMessage => ({ role: "user", content });
const chat = (messages: ChatMessage[], answer: string) =>
  recordFor({ model: "m-walrus", messages }, { responseText: answer });

// Oldest first: A's first turn, B, A's second turn, C; every one mentions the walrus.
const A1 = chat([user("walrus one")], "ok one");
const B1 = chat([user("walrus bee")], "ok bee");
const A2 = chat([user("walrus one"), { role: "assistant", content: "ok one" }, user("walrus two")], "ok two");
const C1 = chat([user("walrus sea")], "ok sea");

let dir: string;
let schema: TestSchema;
const stores: BrowseStore[] = [];

beforeAll(async () => {
  dir = tempDir();
  const file = path.join(dir, "logs.db");
  schema = await createTestSchema();
  const lite = SqliteStore.open(file);
  const pg = await PgStore.open(schema.url);
  for (const record of [A1, B1, A2, C1]) {
    lite.writeBatch([record]);
    await pg.writeBatch([record]);
  }
  lite.close();
  await pg.close();
  stores.push(await openBrowseStore({ dbPath: file }), await openBrowseStore({ databaseUrl: schema.url }));
}, 60_000);
afterAll(async () => {
  for (const store of stores) await store.close();
  await schema.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

it("lists each conversation once, by its newest match, one per page", async () => {
  for (const store of stores) {
    const pages: string[][] = [];
    const counts: unknown[] = [];
    let cursor: string | null = null;
    do {
      const page = await store.conversations({ search: "walrus" }, { limit: 1, cursor });
      pages.push(page.items.map((c) => c.lastResponseId));
      counts.push(page.count);
      cursor = page.nextCursor;
    } while (cursor !== null && pages.length < 10);
    // C, then A (its second turn is newer than B), then B; A's first turn does not bring it back.
    expect(pages).toEqual([[C1.id], [A2.id], [B1.id]]);
    expect(counts).toEqual([{ value: 3, exact: true }, null, null]);
    const all = await store.conversations({ search: "walrus" }, { limit: 10 });
    expect(all.items.map((c) => c.turns)).toEqual([1, 2, 1]);
    expect(
      (await store.conversations({ search: "walrus one" }, { limit: 10 })).items.map((c) => c.lastResponseId),
    ).toEqual([A2.id]);
  }
});
