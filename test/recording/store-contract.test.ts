/**
 * One behavioural suite, run against both record stores: SqliteStore on a
 * temp file and PgStore in a throw-away PostgreSQL schema. The same SQL
 * reads both (the tables mirror each other), so every assertion holds for
 * each store; the last test writes one sequence of exchanges into both and
 * compares every row.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChatMessage } from "../../src/protocol/chat-request.js";
import { PgStore } from "../../src/recording/postgres/pg-store.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { RecordStore } from "../../src/recording/types.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { aiderBody, conversationRecords, FIB_ANSWER, recordFor } from "../helpers/records.js";

/** A store under test and plain SQL access to what it wrote. */
interface Harness {
  open(): Promise<RecordStore>;
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  count(sql: string): Promise<number>;
  cleanup(): Promise<void>;
}

function sqliteHarness(): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-relay-contract-"));
  const file = path.join(dir, "logs.db");
  const read = <T>(sql: string): T[] => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  };
  return Promise.resolve({
    open: () => Promise.resolve(SqliteStore.open(file)),
    rows: <T>(sql: string) => Promise.resolve(read<T>(sql)),
    count: (sql) => Promise.resolve(Number(read<{ n: number }>(`SELECT count(*) AS n FROM (${sql})`)[0]!.n)),
    cleanup: () => Promise.resolve(fs.rmSync(dir, { recursive: true, force: true })),
  });
}

async function pgHarness(): Promise<Harness> {
  const schema: TestSchema = await createTestSchema();
  return {
    open: () => PgStore.open(schema.url),
    rows: (sql) => schema.rows(sql),
    count: (sql) => schema.count(sql),
    cleanup: () => schema.drop(),
  };
}

const STORES: [string, () => Promise<Harness>][] = [
  ["SqliteStore", sqliteHarness],
  ["PgStore", pgHarness],
];

describe.each(STORES)("%s (store contract)", (_name, makeHarness) => {
  let h: Harness;
  let store: RecordStore | null = null;
  beforeEach(async () => {
    h = await makeHarness();
  });
  afterEach(async () => {
    await store?.close();
    store = null;
    await h.cleanup();
  });

  it("writes the canonical aider request as one conversation with its history", async () => {
    store = await h.open();
    const record = recordFor(aiderBody());
    await store.writeBatch([record]);

    expect(await h.count("SELECT * FROM conversations")).toBe(1);
    expect(await h.count("SELECT * FROM threads")).toBe(1);
    // The live turn and one turn per history row (same ids), so llm 0.32 shows the history from the message store.
    expect(await h.count("SELECT * FROM turns")).toBe(6);
    expect(await h.count("SELECT * FROM messages")).toBe(13);
    expect(await h.count("SELECT * FROM turn_search")).toBe(6);
    const rows = await h.rows<{
      id: string;
      prompt: string;
      system: string | null;
      response: string;
      conversation_id: string;
      input_tokens: number;
      output_tokens: number;
      duration_ms: number;
    }>("SELECT * FROM responses ORDER BY id");
    expect(rows).toHaveLength(6);
    expect(rows[5]!.id).toBe(record.id);
    expect(rows.slice(0, 5).every((r) => r.input_tokens === 0 && r.output_tokens === 0 && r.duration_ms === 0)).toBe(
      true,
    );
    expect(rows.map((r) => r.system !== null)).toEqual([true, false, false, false, false, false]);
    expect(rows[0]!.prompt).toBe("Change the greeting to be more casual");
    expect(rows[5]).toMatchObject({ input_tokens: 900, output_tokens: 40, response: FIB_ANSWER });
    expect(rows[5]!.prompt).toMatch(/^create src\/main.py in which you implement the fibonacci/);
    expect(new Set(rows.map((r) => r.conversation_id)).size).toBe(1);
    const [conversation] = await h.rows("SELECT * FROM conversations");
    expect(conversation).toEqual({
      id: rows[0]!.conversation_id,
      name: "Change the greeting to be more …",
      model: "TestModelName",
    });
    const [thread] = await h.rows<{ id: string; tip_message_hash: string }>("SELECT * FROM threads");
    const [turn] = await h.rows<{ id: string; tip_message_hash: string; thread_id: string }>(
      `SELECT * FROM turns WHERE id = '${record.id}'`,
    );
    const turnIds = await h.rows<{ id: string }>("SELECT id FROM turns ORDER BY id");
    expect(turnIds.map((t) => t.id)).toEqual(rows.map((r) => r.id));
    expect(thread!.id).toBe(conversation!.id);
    expect(turn).toMatchObject({ id: record.id, thread_id: thread!.id, tip_message_hash: thread!.tip_message_hash });
    const [exchange] = await h.rows(`SELECT * FROM llm_relay_exchanges`);
    expect(exchange).toMatchObject({
      response_id: record.id,
      request_id: record.requestId,
      status: "ok",
      http_status: 200,
      stream: 1,
      usage_estimated: 0,
      ttft_ms: 120,
    });
  });

  it("joins a continued conversation to the first one", async () => {
    store = await h.open();
    const [first, second] = conversationRecords(2);
    await store.writeBatch([first!]);
    await store.writeBatch([second!]);
    expect(await h.count("SELECT * FROM conversations")).toBe(1);
    expect(await h.count("SELECT * FROM threads")).toBe(1);
    expect(await h.count("SELECT * FROM messages")).toBe(15);
    expect(await h.count("SELECT * FROM responses")).toBe(7);
    expect(await h.count("SELECT * FROM turns")).toBe(7);
    const [last] = await h.rows("SELECT id, prompt, system, response FROM responses ORDER BY id DESC LIMIT 1");
    expect(last).toEqual({ id: second!.id, prompt: "question 1", system: null, response: "answer 1" });
    const [thread] = await h.rows<{ tip_message_hash: string }>("SELECT tip_message_hash FROM threads");
    const [turn2] = await h.rows<{ tip_message_hash: string }>(
      `SELECT tip_message_hash FROM turns WHERE id = '${second!.id}'`,
    );
    expect(thread!.tip_message_hash).toBe(turn2!.tip_message_hash);
  });

  it("keeps a reply with reasoning and the next turn in one conversation when one batch holds both", async () => {
    store = await h.open();
    const question: ChatMessage[] = [{ role: "user", content: "What is 6 x 7?" }];
    const first = recordFor({ model: "r1", messages: question }, { responseText: "42", reasoning: "6 x 7 is 42" });
    // The client re-sends the reply without its reasoning, as clients do.
    const followUp: ChatMessage[] = [
      ...question,
      { role: "assistant", content: "42" },
      { role: "user", content: "sure?" },
    ];
    const second = recordFor({ model: "r1", messages: followUp }, { responseText: "yes" });
    await store.writeBatch([first, second]);
    expect(await h.count("SELECT * FROM conversations")).toBe(1);
    expect(await h.rows("SELECT id FROM responses ORDER BY id")).toEqual([{ id: first.id }, { id: second.id }]);
  });

  it("records failed and cancelled exchanges with their status, and a retry joins the failed one's conversation", async () => {
    store = await h.open();
    const body = aiderBody();
    const failed = recordFor(body, {
      responseText: "",
      status: "error",
      httpStatus: 502,
      error: "upstream unreachable",
      usage: { input: 900, output: 0, estimated: true },
      responseJson: { error: { message: "upstream unreachable", type: "server_error" } },
    });
    const cancelled = recordFor(body, {
      responseText: "src/main.py\n```python\ndef fib",
      status: "cancelled",
      httpStatus: 200,
      error: "client disconnected",
      usage: { input: 900, output: 7, estimated: true },
    });
    await store.writeBatch([failed, cancelled]);

    const exchanges = await h.rows<{
      response_id: string;
      status: string;
      http_status: number;
      error: string | null;
      usage_estimated: number;
    }>("SELECT response_id, status, http_status, error, usage_estimated FROM llm_relay_exchanges ORDER BY response_id");
    expect(exchanges).toEqual([
      { response_id: failed.id, status: "error", http_status: 502, error: "upstream unreachable", usage_estimated: 1 },
      {
        response_id: cancelled.id,
        status: "cancelled",
        http_status: 200,
        error: "client disconnected",
        usage_estimated: 1,
      },
    ]);
    // The failure wrote no turn (only its history's five); the retry (the cancelled one) joined its conversation.
    expect(await h.count("SELECT * FROM turns")).toBe(6);
    expect(await h.count(`SELECT * FROM turns WHERE id = '${failed.id}'`)).toBe(0);
    expect(await h.count("SELECT * FROM conversations")).toBe(1);
    const live = await h.rows<{ id: string; response: string }>(
      `SELECT id, response FROM responses WHERE id IN ('${failed.id}', '${cancelled.id}') ORDER BY id`,
    );
    expect(live).toEqual([
      { id: failed.id, response: "" },
      { id: cancelled.id, response: "src/main.py\n```python\ndef fib" },
    ]);
  });

  it("stores the upstream attempts and the cost", async () => {
    store = await h.open();
    const record = recordFor(aiderBody(), {
      costUsd: 0.012345,
      attempts: [
        {
          model: "TestModelName",
          deployment: "primary",
          provider: "openai-compatible",
          upstreamModel: "gpt-x",
          status: "error",
          httpStatus: 429,
          startedMs: 1.5,
          durationMs: 20.25,
          error: "rate limited",
        },
        {
          model: "fallback",
          deployment: "backup#2",
          provider: "ollama",
          upstreamModel: "llama3",
          status: "ok",
          httpStatus: 200,
          startedMs: 30,
          durationMs: 1100,
          error: null,
        },
      ],
    });
    await store.writeBatch([record]);
    const [exchange] = await h.rows(
      `SELECT cost_usd, attempts FROM llm_relay_exchanges WHERE response_id = '${record.id}'`,
    );
    expect(exchange).toEqual({ cost_usd: 0.012345, attempts: 2 });
    const attempts = await h.rows("SELECT * FROM llm_relay_attempts ORDER BY attempt");
    expect(attempts).toEqual([
      {
        response_id: record.id,
        attempt: 1,
        model: "TestModelName",
        deployment: "primary",
        provider: "openai-compatible",
        upstream_model: "gpt-x",
        status: "error",
        http_status: 429,
        started_ms: 1.5,
        duration_ms: 20.25,
        error: "rate limited",
      },
      {
        response_id: record.id,
        attempt: 2,
        model: "fallback",
        deployment: "backup#2",
        provider: "ollama",
        upstream_model: "llama3",
        status: "ok",
        http_status: 200,
        started_ms: 30,
        duration_ms: 1100,
        error: null,
      },
    ]);
    const [row] = await store.listResponses({ limit: 1 });
    expect(row).toMatchObject({
      id: record.id,
      costUsd: 0.012345,
      status: "ok",
      provider: "echo",
      requestId: record.requestId,
      estimated: false,
    });
  });

  it("lists responses newest first, with a limit and a conversation filter", async () => {
    store = await h.open();
    const conversation = conversationRecords(3);
    const other = recordFor(
      { model: "gpt-4o-mini", messages: [{ role: "user", content: "hello there" }] },
      { responseText: "hi" },
    );
    for (const record of [...conversation, other]) await store.writeBatch([record]);

    const all = await store.listResponses({ limit: 100 });
    expect(all.map((r) => r.id)).toEqual([...all.map((r) => r.id)].sort().reverse());
    expect(all).toHaveLength(5 + 3 + 1); // 5 history rows of the aider request, 3 live rows, 1 other
    const top = await store.listResponses({ limit: 2 });
    expect(top.map((r) => r.id)).toEqual([other.id, conversation[2]!.id]);
    expect(top[0]).toMatchObject({
      model: "gpt-4o-mini",
      prompt: "hello there",
      response: "hi",
      inputTokens: 900,
      outputTokens: 40,
      durationMs: 1234,
      ttftMs: 120,
      httpStatus: 200,
      status: "ok",
      error: null,
    });
    const conversationId = top[1]!.conversationId!;
    const filtered = await store.listResponses({ limit: 100, conversationId });
    expect(filtered).toHaveLength(8);
    expect(filtered.every((r) => r.conversationId === conversationId)).toBe(true);
    expect(filtered.slice(0, 3).map((r) => r.response)).toEqual(["answer 2", "answer 1", FIB_ANSWER]);
    expect(filtered.slice(3).every((r) => r.status === null && r.requestId === null)).toBe(true); // history rows
    expect(await store.listResponses({})).toHaveLength(9);
  });

  it("keeps its data when reopened, and a new store instance continues the conversation", async () => {
    store = await h.open();
    const [first, second] = conversationRecords(2);
    await store.writeBatch([first!]);
    await store.close();
    store = await h.open();
    expect((await store.listResponses({ limit: 100 })).map((r) => r.id)).toContain(first!.id);
    await store.writeBatch([second!]);
    await store.close();
    store = await h.open();
    const rows = await store.listResponses({ limit: 2 });
    expect(rows.map((r) => r.id)).toEqual([second!.id, first!.id]);
    expect(rows[0]!.conversationId).toBe(rows[1]!.conversationId);
    expect(await h.count("SELECT * FROM conversations")).toBe(1);
    expect(await store.isWritable()).toBe(true);
  });
});

/** A table's rows with generated ids (new threads, history rows, parts/turn_search ids) replaced by their order of appearance. */
async function normalizedDump(h: Harness): Promise<Record<string, unknown[]>> {
  const ids = new Map<string, string>();
  const stable = (value: unknown): unknown => {
    if (typeof value !== "string" || !/^[0-9a-z]{26}$/.test(value)) return value;
    if (!ids.has(value)) ids.set(value, `id#${ids.size}`);
    return ids.get(value);
  };
  const tables: [string, string][] = [
    ["responses", "SELECT * FROM responses ORDER BY datetime_utc, id"],
    ["conversations", "SELECT * FROM conversations ORDER BY id"],
    ["threads", "SELECT * FROM threads ORDER BY datetime_utc"],
    ["turns", "SELECT * FROM turns ORDER BY id"],
    ["messages", "SELECT * FROM messages ORDER BY hash"],
    [
      "parts",
      "SELECT message_hash, position, type, tool_name, text, payload FROM parts ORDER BY message_hash, position",
    ],
    ["turn_search", "SELECT turn_id, prompt, response FROM turn_search ORDER BY turn_id"],
    ["llm_relay_exchanges", "SELECT * FROM llm_relay_exchanges ORDER BY response_id"],
    ["llm_relay_attempts", "SELECT * FROM llm_relay_attempts ORDER BY response_id, attempt"],
    ["tools", "SELECT hash, name, description, input_schema, plugin FROM tools ORDER BY hash"],
    [
      "tool_responses",
      "SELECT t.hash, r.response_id FROM tool_responses r JOIN tools t ON t.id = r.tool_id ORDER BY r.response_id, t.hash",
    ],
    [
      "turn_tools",
      "SELECT t.hash, tt.turn_id, tt.instance_id FROM turn_tools tt JOIN tools t ON t.id = tt.tool_id ORDER BY tt.turn_id, t.hash",
    ],
    [
      "tool_calls",
      "SELECT c.response_id, t.hash, c.name, c.arguments, c.tool_call_id FROM tool_calls c LEFT JOIN tools t ON t.id = c.tool_id ORDER BY c.response_id, c.tool_call_id",
    ],
    [
      "tool_results",
      "SELECT x.response_id, t.hash, x.name, x.output, x.tool_call_id, x.exception FROM tool_results x LEFT JOIN tools t ON t.id = x.tool_id ORDER BY x.response_id, x.tool_call_id",
    ],
    ["llm_relay_reply_aliases", "SELECT * FROM llm_relay_reply_aliases ORDER BY bare_hash"],
  ];
  const out: Record<string, unknown[]> = {};
  for (const [table, sql] of tables) {
    out[table] = (await h.rows(sql)).map((row) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, stable(v)])),
    );
  }
  return out;
}

describe("SqliteStore and PgStore", () => {
  it("write the same rows for the same exchanges", async () => {
    const body = aiderBody();
    const toolBody = {
      model: "gpt-4o",
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "weather in Paris?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "18C, cloudy" },
      ],
      temperature: 0.2,
      tools: [
        {
          type: "function",
          function: {
            name: "weather",
            description: "Weather of a city",
            parameters: { type: "object", properties: { city: { type: "string" } } },
          },
        },
      ],
    };
    const thinking: ChatMessage[] = [{ role: "user", content: "6 x 7?" }];
    const records = [
      ...conversationRecords(3),
      recordFor(body, { responseText: "", status: "error", httpStatus: 504, error: "timeout", responseJson: null }),
      recordFor(body, {
        responseText: "",
        toolCalls: [{ id: "call_9", name: "read_file", arguments: '{"path":"src/main.py"}' }],
        finishReason: "tool_calls",
      }),
      recordFor(toolBody, {
        responseText: "18°C and cloudy.",
        costUsd: 0.0001,
        attempts: [
          {
            model: "gpt-4o",
            deployment: "a",
            provider: "openai-compatible",
            upstreamModel: "gpt-4o",
            status: "ok",
            httpStatus: 200,
            startedMs: 0,
            durationMs: 5,
            error: null,
          },
        ],
      }),
      recordFor({ ...body, messages: [...(body.messages as ChatMessage[]).slice(0, 3)] }, { responseText: "a fork" }),
      recordFor(
        { model: "r1", messages: thinking },
        {
          responseText: "42",
          reasoning: "6 x 7 is 42",
          usage: {
            input: 5,
            output: 9,
            estimated: false,
            details: { completion_tokens_details: { reasoning_tokens: 7 } },
          },
        },
      ),
      recordFor(
        {
          model: "r1",
          messages: [...thinking, { role: "assistant", content: "42" }, { role: "user", content: "sure?" }],
        },
        { responseText: "yes" },
      ),
    ];
    const dumps: Record<string, unknown[]>[] = [];
    for (const make of [sqliteHarness, pgHarness]) {
      const h = await make();
      try {
        const store = await h.open();
        await store.writeBatch(records.slice(0, 2));
        for (const record of records.slice(2)) await store.writeBatch([record]);
        await store.close();
        dumps.push(await normalizedDump(h));
      } finally {
        await h.cleanup();
      }
    }
    expect(dumps[0]!.responses!.length).toBeGreaterThan(records.length);
    expect(dumps[0]!.parts!.some((p) => (p as { type: string }).type === "tool_call")).toBe(true);
    for (const table of [
      "tools",
      "tool_responses",
      "turn_tools",
      "tool_calls",
      "tool_results",
      "llm_relay_reply_aliases",
    ]) {
      expect(dumps[0]![table]!.length, table).toBeGreaterThan(0);
    }
    expect(dumps[1]).toEqual(dumps[0]);
  });
});
