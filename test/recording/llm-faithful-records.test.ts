/**
 * Issue 17 ("Faithful records"), store side, on both record stores: tools in
 * llm 0.31.1's legacy tables and 0.32's `turn_tools`, the system prompt shown
 * once per conversation by both generations, reasoning (column, part, and a
 * thread that survives clients dropping it), and `token_details`.
 * Expected values come from llm's writers (see test/fixtures/llm-golden/README.md);
 * the tool hash was computed with Python: sha256(json.dumps({name, description, input_schema})).
 */
import fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChatMessage } from "../../src/protocol/chat-request.js";
import type { RecordStore } from "../../src/recording/types.js";
import { aiderBody, recordFor } from "../helpers/records.js";
import { STORE_HARNESSES, systemsShown, type StoreHarness } from "./store-harness.js";
import { match } from "../helpers/matchers.js";

const TOOL_CALL_REQUESTS = fs
  .readFileSync(new URL("../../../shared/fixtures/llm-native/tool-call/requests.jsonl", import.meta.url), "utf8")
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line) as Record<string, unknown>);

/** `Tool.hash()` of get_weather, by Python's hashlib and json.dumps. */
const GET_WEATHER_HASH = "e187451b2ec0389fe644103b53c9838b4a067a32135260b9b0cd71979d6d6ce8";
const GET_WEATHER_SCHEMA = '{"properties": {"city": {"type": "string"}}, "required": ["city"], "type": "object"}';

function toolCallRecords() {
  const first = recordFor(TOOL_CALL_REQUESTS[0]!, {
    responseText: "",
    toolCalls: [{ id: "call_w1", name: "get_weather", arguments: '{"city": "Paris"}' }],
    finishReason: "tool_calls",
  });
  const second = recordFor(TOOL_CALL_REQUESTS[1]!, {
    responseText: "It is sunny in Paris.",
    usage: { input: 50, output: 10, estimated: false },
  });
  return [first, second] as const;
}

describe.each(STORE_HARNESSES)("%s: faithful records", (_name, makeHarness) => {
  let h: StoreHarness;
  let store: RecordStore | null = null;
  beforeEach(async () => {
    h = await makeHarness();
  });
  afterEach(async () => {
    await store?.close();
    store = null;
    await h.cleanup();
  });

  it("writes a tool-call conversation into llm 0.31.1's tool tables and 0.32's turn_tools", async () => {
    store = await h.open();
    const [first, second] = toolCallRecords();
    await store.writeBatch([first]);
    await store.writeBatch([second]);

    const tools = await h.rows<{ id: unknown; hash: string }>("SELECT * FROM tools");
    expect(tools).toEqual([
      {
        id: match.anything(),
        hash: GET_WEATHER_HASH,
        name: "get_weather",
        description: "Get the current weather for a city",
        input_schema: GET_WEATHER_SCHEMA,
        plugin: null,
      },
    ]);
    const toolId = String(tools[0]!.id);
    const pairs = (sql: string) =>
      h
        .rows<Record<string, unknown>>(sql)
        .then((rows) =>
          rows.map((r) =>
            Object.fromEntries(
              Object.entries(r).map(([k, v]) => [
                k,
                k === "tool_id" && (typeof v === "number" || typeof v === "bigint") ? String(v) : v,
              ]),
            ),
          ),
        );
    expect(await pairs("SELECT tool_id, response_id FROM tool_responses ORDER BY response_id")).toEqual([
      { tool_id: toolId, response_id: first.id },
      { tool_id: toolId, response_id: second.id },
    ]);
    expect(await pairs("SELECT turn_id, tool_id, instance_id FROM turn_tools ORDER BY turn_id")).toEqual([
      { turn_id: first.id, tool_id: toolId, instance_id: null },
      { turn_id: second.id, tool_id: toolId, instance_id: null },
    ]);
    expect(await pairs("SELECT response_id, tool_id, name, arguments, tool_call_id FROM tool_calls")).toEqual([
      {
        response_id: first.id,
        tool_id: toolId,
        name: "get_weather",
        arguments: '{"city": "Paris"}',
        tool_call_id: "call_w1",
      },
    ]);
    expect(
      await pairs("SELECT response_id, tool_id, name, output, tool_call_id, instance_id, exception FROM tool_results"),
    ).toEqual([
      {
        response_id: second.id,
        tool_id: toolId,
        name: "get_weather",
        output: '{"temp": 21.0, "sky": "sunny"}',
        tool_call_id: "call_w1",
        instance_id: null,
        exception: null,
      },
    ]);
    // 0.31.1's `llm logs --tools` lists the responses with a tool result: the second one.
    expect(
      await h.rows(
        "SELECT r.id FROM responses r WHERE EXISTS (SELECT 1 FROM tool_results tr WHERE tr.response_id = r.id)",
      ),
    ).toEqual([{ id: second.id }]);
    // One conversation: the second request joined the first one's thread.
    expect(await h.rows("SELECT DISTINCT conversation_id FROM responses")).toHaveLength(1);
  });

  it("gives the history rows of a conversation first seen mid-way their tool calls and results", async () => {
    store = await h.open();
    const body = {
      ...TOOL_CALL_REQUESTS[1]!,
      messages: [
        ...(TOOL_CALL_REQUESTS[1]!.messages as ChatMessage[]),
        { role: "assistant", content: "It is sunny in Paris." },
        { role: "user", content: "And tomorrow?" },
      ],
    };
    const record = recordFor(body, {
      responseText: "",
      toolCalls: [{ id: "call_w2", name: "get_weather", arguments: '{"city":"Paris","day":1}' }],
    });
    await store.writeBatch([record]);
    const responses = await h.rows<{ id: string; prompt: string | null; response: string }>(
      "SELECT id, prompt, response FROM responses ORDER BY id",
    );
    expect(responses.map((r) => [r.prompt, r.response])).toEqual([
      ["What is the weather in Paris?", ""],
      [null, "It is sunny in Paris."], // tool results only: no prompt (0.31.1 writes None), the results in tool_results
      ["And tomorrow?", ""],
    ]);
    const [callRow, resultRow, live] = responses.map((r) => r.id);
    expect(
      await h.rows("SELECT response_id, name, arguments, tool_call_id FROM tool_calls ORDER BY response_id"),
    ).toEqual([
      { response_id: callRow, name: "get_weather", arguments: '{"city": "Paris"}', tool_call_id: "call_w1" },
      { response_id: live, name: "get_weather", arguments: '{"city": "Paris", "day": 1}', tool_call_id: "call_w2" },
    ]);
    expect(await h.rows("SELECT response_id, name, output, tool_call_id FROM tool_results")).toEqual([
      {
        response_id: resultRow,
        name: "get_weather",
        output: '{"temp": 21.0, "sky": "sunny"}',
        tool_call_id: "call_w1",
      },
    ]);
    expect(
      await h.rows("SELECT count(*) AS n FROM tool_responses").then((r) => Number((r[0] as { n: unknown }).n)),
    ).toBe(3);
    expect(await h.rows("SELECT turn_id FROM turn_tools ORDER BY turn_id")).toEqual(
      responses.map((r) => ({ turn_id: r.id })),
    );
  });

  it("shows the system prompt once in both generations' view of a conversation first seen mid-way, and as it continues", async () => {
    store = await h.open();
    const body = aiderBody();
    const system = (body.messages as ChatMessage[])[0]!.content as string;
    const first = recordFor(body);
    const next = recordFor(
      {
        ...body,
        messages: [
          ...(body.messages as ChatMessage[]),
          { role: "assistant", content: first.responseText },
          { role: "user", content: "and now in rust" },
        ],
      },
      { responseText: "fn main() {}" },
    );
    await store.writeBatch([first]);
    await store.writeBatch([next]);
    const [{ conversation_id: conversationId }] = (await h.rows<{ conversation_id: string }>(
      "SELECT DISTINCT conversation_id FROM responses",
    )) as [{ conversation_id: string }];
    expect(await systemsShown(h, conversationId, "0.32")).toEqual([system]);
    expect(await systemsShown(h, conversationId, "0.31.1")).toEqual([system]);
    // 0.31.1: `system` on the conversation's first row only.
    const systems = await h.rows<{ system: string | null }>("SELECT system FROM responses ORDER BY id");
    expect(systems.map((r) => r.system !== null)).toEqual([true, false, false, false, false, false, false]);
  });

  it("stores the reasoning as responses.reasoning and a reasoning part before the text, and threads the next turn that re-sends the reply without it, also after a restart", async () => {
    store = await h.open();
    const base: ChatMessage[] = [
      { role: "system", content: "Think first." },
      { role: "user", content: "What is 6 x 7?" },
    ];
    const first = recordFor(
      { model: "deepseek-r1", messages: base },
      { responseText: "42", reasoning: "6 x 7 = 42, no doubt." },
    );
    await store.writeBatch([first]);
    const second = recordFor(
      {
        model: "deepseek-r1",
        messages: [...base, { role: "assistant", content: "42" }, { role: "user", content: "And 7 x 8?" }],
      },
      { responseText: "56", reasoning: "7 x 8 = 56." },
    );
    await store.writeBatch([second]);
    await store.close();
    store = await h.open(); // a restart: the aliases are read from the database
    const third = recordFor(
      {
        model: "deepseek-r1",
        messages: [
          ...base,
          { role: "assistant", content: "42" },
          { role: "user", content: "And 7 x 8?" },
          { role: "assistant", content: "56" },
          { role: "user", content: "And 8 x 9?" },
        ],
      },
      { responseText: "72" },
    );
    await store.writeBatch([third]);

    expect(await h.rows("SELECT id, reasoning FROM responses ORDER BY id")).toEqual([
      { id: first.id, reasoning: "6 x 7 = 42, no doubt." },
      { id: second.id, reasoning: "7 x 8 = 56." },
      { id: third.id, reasoning: null },
    ]);
    const [turn] = await h.rows<{ tip_message_hash: string }>(
      `SELECT tip_message_hash FROM turns WHERE id = '${first.id}'`,
    );
    expect(
      await h.rows(
        `SELECT position, type, tool_name, text, payload FROM parts WHERE message_hash = '${turn!.tip_message_hash}' ORDER BY position`,
      ),
    ).toEqual([
      { position: 0, type: "reasoning", tool_name: null, text: "6 x 7 = 42, no doubt.", payload: null },
      { position: 1, type: "text", tool_name: null, text: "42", payload: null },
    ]);
    // One thread: each turn's parent chain runs through the stored replies (with their reasoning).
    expect(await h.rows("SELECT count(*) AS n FROM threads").then((r) => Number((r[0] as { n: unknown }).n))).toBe(1);
    expect(await h.rows("SELECT DISTINCT thread_id FROM turns")).toHaveLength(1);
    const turns = await h.rows<{ id: string; parent_message_hash: string; tip_message_hash: string }>(
      "SELECT id, parent_message_hash, tip_message_hash FROM turns ORDER BY id",
    );
    const parentOf = new Map(
      (await h.rows<{ hash: string; parent_hash: string | null }>("SELECT hash, parent_hash FROM messages")).map(
        (m) => [m.hash, m.parent_hash],
      ),
    );
    expect(parentOf.get(turns[1]!.parent_message_hash)).toBe(turns[0]!.tip_message_hash);
    expect(parentOf.get(turns[2]!.parent_message_hash)).toBe(turns[1]!.tip_message_hash);
    const [thread] = await h.rows<{ tip_message_hash: string }>("SELECT tip_message_hash FROM threads");
    expect(thread!.tip_message_hash).toBe(turns[2]!.tip_message_hash);
    // No reasoning-less copy of a reply was stored: one assistant message per answer.
    expect(
      await h
        .rows("SELECT count(*) AS n FROM messages WHERE role = 'assistant'")
        .then((r) => Number((r[0] as { n: unknown }).n)),
    ).toBe(3);
  });

  it("writes usage details as token_details the way json.dumps does, NULL when there are none", async () => {
    store = await h.open();
    const details = {
      prompt_tokens_details: { cached_tokens: 1024 },
      completion_tokens_details: { reasoning_tokens: 96 },
    };
    const withDetails = recordFor(
      { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] },
      { usage: { input: 1100, output: 120, estimated: false, details } },
    );
    const empty = recordFor(
      { model: "gpt-4o", messages: [{ role: "user", content: "hey" }] },
      { usage: { input: 3, output: 2, estimated: false, details: {} } },
    );
    const none = recordFor({ model: "gpt-4o", messages: [{ role: "user", content: "yo" }] });
    await store.writeBatch([withDetails, empty, none]);
    const expected =
      '{"prompt_tokens_details": {"cached_tokens": 1024}, "completion_tokens_details": {"reasoning_tokens": 96}}';
    const want = [
      { id: withDetails.id, token_details: expected },
      { id: empty.id, token_details: null },
      { id: none.id, token_details: null },
    ];
    expect(await h.rows("SELECT id, token_details FROM responses ORDER BY id")).toEqual(want);
    expect(await h.rows("SELECT id, token_details FROM turns ORDER BY id")).toEqual(want);
  });
});
