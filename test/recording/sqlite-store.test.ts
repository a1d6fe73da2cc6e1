import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChatMessage } from "../../src/protocol/chat-request.js";
import { LLM_MIGRATIONS } from "../../src/recording/sqlite/schema.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { ExchangeRecord } from "../../src/recording/types.js";
import { newUlid } from "../../src/recording/ulid.js";
import { FIB_ANSWER, recordFor } from "../helpers/records.js";

const fixtureUrl = new URL("../../../shared/fixtures/aider-chat-request.json", import.meta.url);
const aider = (): Record<string, unknown> => JSON.parse(readFileSync(fixtureUrl, "utf8")) as Record<string, unknown>;

function count(db: Database.Database, sql: string, ...params: unknown[]): number {
  return (db.prepare(sql).get(...params) as { n: number }).n;
}

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "llm-relay-store-"));
  file = join(dir, "nested", "logs.db");
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("SqliteStore", () => {
  it("writes the aider request as one conversation with its history", () => {
    const store = SqliteStore.open(file);
    const record = recordFor(aider());
    store.writeBatch([record]);
    store.close();

    const db = new Database(file, { readonly: true });
    expect(count(db, "SELECT count(*) n FROM conversations")).toBe(1);
    expect(count(db, "SELECT count(*) n FROM threads")).toBe(1);
    // The live turn and one turn per history row (same ids), so llm 0.32 shows the history from the message store.
    expect(count(db, "SELECT count(*) n FROM turns")).toBe(6);
    expect(count(db, "SELECT count(*) n FROM messages")).toBe(13);
    expect(count(db, "SELECT count(*) n FROM turn_search")).toBe(6);
    const rows = db.prepare("SELECT * FROM responses ORDER BY id").all() as Record<string, unknown>[];
    expect(rows).toHaveLength(6);
    expect(rows[5]!.id).toBe(record.id);
    expect(rows.slice(0, 5).every((r) => r.input_tokens === 0 && r.output_tokens === 0 && r.duration_ms === 0)).toBe(
      true,
    );
    expect(rows[5]!.input_tokens).toBe(900);
    expect(rows.map((r) => r.system !== null)).toEqual([true, false, false, false, false, false]);
    expect(rows[0]!.prompt).toBe("Change the greeting to be more casual");
    expect(rows[5]!.prompt).toMatch(/^create src\/main.py in which you implement the fibonacci/);
    expect(rows[5]!.response).toBe(FIB_ANSWER);
    expect(rows[5]!.options_json).toBe('{"temperature": 0.0}');
    expect(rows.every((r) => r.options_json !== null && r.conversation_id === rows[0]!.conversation_id)).toBe(true);
    const conv = db.prepare("SELECT * FROM conversations").get() as Record<string, unknown>;
    expect(conv).toEqual({
      id: rows[0]!.conversation_id,
      name: "Change the greeting to be more …",
      model: "TestModelName",
    });
    const thread = db.prepare("SELECT * FROM threads").get() as Record<string, unknown>;
    expect(thread.id).toBe(conv.id);
    const turn = db.prepare("SELECT * FROM turns WHERE id = ?").get(record.id) as Record<string, unknown>;
    expect(turn.id).toBe(record.id);
    expect(thread.tip_message_hash).toBe(turn.tip_message_hash);
    expect(turn.options_json).toBe('{"temperature": 0.0}');
    expect(turn.datetime_utc).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    expect(thread.datetime_utc).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    // every *_json column holds valid JSON or NULL
    for (const [table, col] of [
      ["responses", "prompt_json"],
      ["responses", "options_json"],
      ["responses", "response_json"],
      ["responses", "token_details"],
      ["turns", "options_json"],
      ["turns", "response_json"],
      ["parts", "payload"],
    ] as const) {
      expect(
        count(db, `SELECT count(*) n FROM ${table} WHERE ${col} IS NOT NULL AND NOT json_valid(${col})`),
        `${table}.${col}`,
      ).toBe(0);
    }
    const names = (db.prepare("SELECT name FROM _llm_migrations").all() as { name: string }[]).map((r) => r.name);
    expect(names.sort()).toEqual([...LLM_MIGRATIONS].sort());
    expect(names).toHaveLength(30);
    expect(count(db, "SELECT count(*) n FROM turn_search_fts WHERE turn_search_fts MATCH 'fibonacci'")).toBe(1);
    expect(count(db, "SELECT count(*) n FROM responses_fts WHERE responses_fts MATCH 'fibonacci'")).toBe(1);
    const ex = db.prepare("SELECT * FROM llm_relay_exchanges").all() as Record<string, unknown>[];
    expect(ex).toHaveLength(1);
    expect(ex[0]).toMatchObject({
      response_id: record.id,
      status: "ok",
      http_status: 200,
      stream: 1,
      usage_estimated: 0,
    });
    expect(count(db, "SELECT count(*) n FROM message_tree")).toBe(13);
    db.close();
  });

  it("continues the conversation when the client re-sends the history", () => {
    const store = SqliteStore.open(file);
    const first = recordFor(aider());
    store.writeBatch([first]);
    const body = aider();
    body.messages = [
      ...(body.messages as ChatMessage[]),
      { role: "assistant", content: FIB_ANSWER },
      { role: "user", content: "now add a docstring" },
    ];
    const second = recordFor(body, { responseText: "Done." });
    store.writeBatch([second]);
    store.close();

    const db = new Database(file, { readonly: true });
    expect(count(db, "SELECT count(*) n FROM conversations")).toBe(1);
    expect(count(db, "SELECT count(*) n FROM threads")).toBe(1);
    expect(count(db, "SELECT count(*) n FROM messages")).toBe(15);
    expect(count(db, "SELECT count(*) n FROM responses")).toBe(7);
    expect(count(db, "SELECT count(*) n FROM turns")).toBe(7);
    const last = db.prepare("SELECT * FROM responses ORDER BY id DESC LIMIT 1").get() as Record<string, unknown>;
    expect(last).toMatchObject({ id: second.id, prompt: "now add a docstring", system: null, response: "Done." });
    const turn2 = db.prepare("SELECT * FROM turns WHERE id = ?").get(second.id) as Record<string, unknown>;
    const thread = db.prepare("SELECT * FROM threads").get() as Record<string, unknown>;
    expect(turn2.thread_id).toBe(thread.id);
    expect(thread.tip_message_hash).toBe(turn2.tip_message_hash);
    db.close();
  });

  /** The aider request continued by `turns` more user/assistant turns. */
  function continued(turns: number): Record<string, unknown> {
    const body = aider();
    const messages = [...(body.messages as ChatMessage[])];
    for (let i = 0; i < turns; i++)
      messages.push(
        { role: "assistant", content: `${FIB_ANSWER}\n# turn ${i}` },
        { role: "user", content: `next step ${i}` },
      );
    body.messages = messages;
    return body;
  }
  /** Writes each record with a store of its own (cold caches, one transaction each) into a new file; returns its path. */
  function writeCold(records: readonly ExchangeRecord[]): string {
    const coldFile = join(dir, "cold.db");
    for (const r of records) {
      const cold = SqliteStore.open(coldFile);
      cold.writeBatch([r]);
      cold.close();
    }
    return coldFile;
  }
  function snapshot(path: string): Record<string, unknown> {
    const db = new Database(path, { readonly: true });
    const all = (sql: string): unknown[] => db.prepare(sql).all();
    const out = {
      messages: all("SELECT hash, parent_hash, role FROM messages ORDER BY hash"),
      parts: all("SELECT message_hash, position, type, text, payload FROM parts ORDER BY message_hash, position"),
      threads: all("SELECT name, tip_message_hash FROM threads ORDER BY id"),
      turns: all("SELECT parent_message_hash, tip_message_hash, options_json FROM turns ORDER BY id"),
      responses: all("SELECT prompt, system, response, options_json FROM responses ORDER BY id"),
      search: all("SELECT prompt, response FROM turn_search ORDER BY id"),
    };
    db.close();
    return out;
  }

  it("writes the same rows with its caches warm (one store, one batch) as cold (a new store per exchange)", () => {
    const records = [0, 1, 2, 3].map((t) => recordFor(continued(t), { responseText: `${FIB_ANSWER}\n# turn ${t}` }));
    const warm = SqliteStore.open(file);
    warm.writeBatch(records.slice(0, 2));
    warm.writeBatch(records.slice(2));
    warm.close();
    const coldFile = writeCold(records);
    const a = snapshot(file);
    expect(a.threads).toHaveLength(1);
    expect(a.turns).toHaveLength(4 + 5); // and the first request's five history turns
    expect(a).toEqual(snapshot(coldFile));
  });

  it("writes a batch of hundreds of full-text-indexed rows as it writes them one exchange at a time, every row searchable", () => {
    // 70 new aider conversations (6 `responses` rows each: several multi-row statements) and,
    // in the same batch, two turns continuing the first of them (they read its rows back).
    const fresh = Array.from({ length: 70 }, (_, i) => {
      const body = continued(0);
      const messages = body.messages as ChatMessage[];
      const last = messages[messages.length - 1]!.content;
      expect(typeof last).toBe("string");
      messages[messages.length - 1] = { role: "user", content: `${last as string} marker${i}` };
      return recordFor(body, { responseText: `answer${i}` });
    });
    const follow = [1, 2].map((t) => recordFor(continued(t), { responseText: `${FIB_ANSWER}\n# turn ${t}` }));
    const records = [recordFor(continued(0), { responseText: `${FIB_ANSWER}\n# turn 0` }), ...fresh, ...follow];
    const warm = SqliteStore.open(file);
    warm.writeBatch(records);
    warm.close();
    const coldFile = writeCold(records);
    expect(snapshot(file)).toEqual(snapshot(coldFile));
    const db = new Database(file);
    expect(count(db, "SELECT count(*) n FROM responses")).toBe(6 * 71 + 2);
    for (const fts of ["responses_fts", "turn_search_fts"]) {
      db.prepare(`INSERT INTO ${fts} (${fts}) VALUES ('integrity-check')`).run(); // throws when the index and its rows differ
      for (const i of [0, 37, 69])
        expect(count(db, `SELECT count(*) n FROM ${fts} WHERE ${fts} MATCH ?`, `marker${i}`)).toBe(1);
      expect(count(db, `SELECT count(*) n FROM ${fts} WHERE ${fts} MATCH 'answer69'`)).toBe(1);
    }
    expect(count(db, "SELECT count(*) n FROM threads")).toBe(71);
    db.close();
  });

  it("forgets what a rolled-back batch wrote", () => {
    const store = SqliteStore.open(file);
    const turn0 = { responseText: `${FIB_ANSWER}\n# turn 0` };
    const first = recordFor(continued(0), turn0);
    expect(() => store.writeBatch([first, { ...first }])).toThrow(); // same id twice: the batch fails
    store.writeBatch([recordFor(continued(0), turn0)]);
    store.writeBatch([recordFor(continued(1), { responseText: `${FIB_ANSWER}\n# turn 0` })]);
    store.close();
    const db = new Database(file, { readonly: true });
    expect(count(db, "SELECT count(*) n FROM messages")).toBe(15);
    expect(count(db, "SELECT count(*) n FROM parts")).toBe(15);
    expect(
      count(
        db,
        "SELECT count(*) n FROM messages m WHERE parent_hash IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages p WHERE p.hash = m.parent_hash)",
      ),
    ).toBe(0);
    expect(count(db, "SELECT count(*) n FROM threads")).toBe(1);
    db.close();
  });

  it("sees a row another writer added to the conversation (system prompt repeated after a different one)", () => {
    const store = SqliteStore.open(file);
    const first = recordFor(continued(0), { responseText: `${FIB_ANSWER}\n# turn 0` });
    store.writeBatch([first]);
    const other = new Database(file);
    const conversation = (other.prepare("SELECT id FROM conversations").get() as { id: string }).id;
    other
      .prepare(
        "INSERT INTO responses (id, model, prompt, system, options_json, conversation_id) VALUES (?, 'm', 'p', 'Another system', '{}', ?)",
      )
      .run(newUlid(first.startedAt + 1000), conversation); // after `first`, before the next record (a minute later)
    other.close();
    const next = recordFor(continued(1), { responseText: "ok" });
    store.writeBatch([next]);
    store.close();
    const db = new Database(file, { readonly: true });
    const row = db.prepare("SELECT system, conversation_id FROM responses WHERE id = ?").get(next.id) as {
      system: string | null;
      conversation_id: string;
    };
    expect(row.conversation_id).toBe(conversation);
    expect(row.system).toMatch(/^Act as an expert software developer/);
    db.close();
  });

  it("records error and cancelled exchanges with their status", () => {
    const store = SqliteStore.open(file);
    const err = recordFor(
      {
        model: "m",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "hi" },
        ],
      },
      {
        responseText: "",
        status: "error",
        httpStatus: 502,
        error: "upstream down",
        usage: { input: 5, output: 0, estimated: true },
        responseJson: { error: { message: "upstream down" } },
        finishReason: null,
      },
    );
    const retry = recordFor(
      {
        model: "m",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "hi" },
        ],
      },
      {
        responseText: "Hel",
        status: "cancelled",
        httpStatus: 200,
        usage: { input: 5, output: 1, estimated: true },
        finishReason: null,
      },
    );
    store.writeBatch([err, retry]);
    store.close();

    const db = new Database(file, { readonly: true });
    const ex = db
      .prepare(
        "SELECT response_id, status, error, http_status, usage_estimated FROM llm_relay_exchanges ORDER BY response_id",
      )
      .all();
    expect(ex).toEqual([
      { response_id: err.id, status: "error", error: "upstream down", http_status: 502, usage_estimated: 1 },
      { response_id: retry.id, status: "cancelled", error: null, http_status: 200, usage_estimated: 1 },
    ]);
    // the error wrote no turn; the retry joined the thread the error created
    expect(count(db, "SELECT count(*) n FROM turns")).toBe(1);
    expect(count(db, "SELECT count(*) n FROM threads")).toBe(1);
    expect(count(db, "SELECT count(*) n FROM conversations")).toBe(1);
    const rows = db.prepare("SELECT id, system, response FROM responses ORDER BY id").all();
    expect(rows).toEqual([
      { id: err.id, system: "Be brief.", response: "" },
      { id: retry.id, system: null, response: "Hel" },
    ]);
    db.close();
  });

  it("reopens an existing file without changing its schema", () => {
    SqliteStore.open(file).close();
    const schema = (): unknown => {
      const db = new Database(file, { readonly: true });
      const s = db.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all();
      const m = db.prepare("SELECT count(*) n FROM _llm_migrations").get();
      db.close();
      return [s, m];
    };
    const before = schema();
    const store = SqliteStore.open(file);
    expect(store.isWritable()).toBe(true);
    store.writeBatch([recordFor(aider())]);
    store.close();
    expect(schema()).toEqual(before);
  });

  it("completes a file llm 0.31 wrote (migrations up to m021)", () => {
    SqliteStore.open(file).close();
    const fresh = join(dir, "fresh.db");
    SqliteStore.open(fresh).close();
    const db = new Database(file);
    db.exec(`
      DROP VIEW message_tree;
      DROP TABLE turn_search_fts; DROP TABLE turn_search; DROP TABLE tool_instantiations; DROP TABLE turn_tools;
      DROP TABLE turn_fragments; DROP TABLE turns; DROP TABLE threads; DROP TABLE part_fragments;
      DROP TABLE part_attachments; DROP TABLE parts; DROP TABLE messages;
      DROP TABLE llm_relay_exchanges; DROP TABLE llm_relay_schema; DROP INDEX llm_relay_idx_responses_conversation;
      DROP TABLE llm_relay_conversation_stats; DROP INDEX llm_relay_idx_responses_model;
      DROP TRIGGER llm_relay_stats_responses_ai; DROP TRIGGER llm_relay_stats_responses_ad;
      DROP TRIGGER llm_relay_stats_responses_au;
      ALTER TABLE responses DROP COLUMN reasoning;
      DELETE FROM _llm_migrations WHERE name >= 'm022';
      INSERT INTO conversations VALUES ('01kold', 'old', 'gpt-4o');
      INSERT INTO responses (id, model, prompt, options_json, conversation_id, datetime_utc)
        VALUES ('01kold', 'gpt-4o', 'an old prompt', '{}', '01kold', '2025-01-01T00:00:00+00:00');
    `);
    db.close();
    const store = SqliteStore.open(file);
    store.writeBatch([recordFor(aider())]);
    expect(store.listResponses({ limit: 100 })).toHaveLength(7);
    store.close();
    const shape = (path: string): unknown => {
      const d = new Database(path, { readonly: true });
      const objects = d.prepare("SELECT type, name FROM sqlite_master ORDER BY name").all() as {
        type: string;
        name: string;
      }[];
      const cols = objects
        .filter((o) => o.type === "table")
        .map((o) => [o.name, d.prepare("SELECT name, type, pk FROM pragma_table_info(?)").all(o.name)]);
      const names = d.prepare("SELECT count(*) n FROM _llm_migrations").get();
      d.close();
      return [objects, cols, names];
    };
    expect(shape(file)).toEqual(shape(fresh));
  });

  it("refuses a file whose llm migrations it cannot complete", () => {
    SqliteStore.open(file).close();
    const db = new Database(file);
    db.exec("DELETE FROM _llm_migrations WHERE name IN ('m010_create_new_log_tables', 'm027_turns_response_json')");
    db.close();
    expect(() => SqliteStore.open(file)).toThrow(/m010_create_new_log_tables, m027_turns_response_json/);
  });

  it("lists responses newest first, with limit and conversation filter", () => {
    const store = SqliteStore.open(file);
    const a = recordFor(aider());
    const b = recordFor({ model: "m2", messages: [{ role: "user", content: "hello there" }] }, { responseText: "hi" });
    store.writeBatch([a, b]);
    const all = store.listResponses({ limit: 100 });
    expect(all).toHaveLength(7);
    expect(all.map((r) => r.id)).toEqual([...all.map((r) => r.id)].sort().reverse());
    expect(all[0]).toMatchObject({
      id: b.id,
      model: "m2",
      prompt: "hello there",
      response: "hi",
      status: "ok",
      provider: "echo",
      estimated: false,
    });
    expect(all.filter((r) => r.status === null)).toHaveLength(5);
    expect(store.listResponses({ limit: 2 }).map((r) => r.id)).toEqual([b.id, a.id]);
    const conv = all.find((r) => r.id === a.id)!.conversationId!;
    const inConv = store.listResponses({ conversationId: conv, limit: 50 });
    expect(inConv).toHaveLength(6);
    expect(inConv[0]!.id).toBe(a.id);
    // Without a limit: the newest 10 (the default), once there are more.
    expect(store.listResponses({})).toHaveLength(7);
    store.writeBatch(
      Array.from({ length: 4 }, (_, i) =>
        recordFor({ model: "m3", messages: [{ role: "user", content: `more ${i}` }] }, { responseText: "ok" }),
      ),
    );
    const eleven = store.listResponses({ limit: 100 });
    expect(eleven).toHaveLength(11);
    expect(store.listResponses({}).map((r) => r.id)).toEqual(eleven.slice(0, 10).map((r) => r.id));
    store.close();
  });
});

describe("SqliteStore.isWritable", () => {
  it("is false while another connection holds the write lock, and after close", () => {
    const d = mkdtempSync(join(tmpdir(), "llm-relay-store-"));
    const path = join(d, "logs.db");
    const store = SqliteStore.open(path);
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE");
    expect(store.isWritable()).toBe(false);
    other.exec("ROLLBACK");
    other.close();
    expect(store.isWritable()).toBe(true);
    store.close();
    expect(store.isWritable()).toBe(false);
    rmSync(d, { recursive: true, force: true });
  });
});
