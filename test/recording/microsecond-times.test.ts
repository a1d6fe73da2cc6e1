/**
 * `datetime_utc` carries the real microseconds of the exchange's start, in
 * llm's exact formats (docs/llm-logs-db.md): `responses`/`turns` as
 * Python's `isoformat()` (`2026-11-21T09:00:00.100123+00:00`), `threads`
 * as Python's `str()` (a space instead of `T`), both without a fraction
 * when the microseconds are 0. The relay's own tables use the `isoformat()`
 * form. Written through a real proxy to a real SQLite file.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseTimeBound } from "../../src/bench/selection.js";
import { llmDatetime, threadDatetime } from "../../src/recording/llm-format.js";
import { startTime } from "../../src/exchange/start-clock.js";
import { decodeTime } from "ulid";
import { rows } from "../helpers/db.js";
import { ISOFORMAT, micros, PY_STR } from "../helpers/llm-times.js";
import { chat, send } from "../helpers/exchanges.js";
import { startFakeEmbeddings, type FakeEmbeddings } from "../helpers/fake-embeddings.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

const EXCHANGES = 8;
let upstream: FakeUpstream;
let embeddings: FakeEmbeddings;
let proxy: TestProxy;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  embeddings = await startFakeEmbeddings();
  proxy = await startTestProxy(
    { models: { gpt: fakeDeployment(upstream.baseUrl), embed: fakeDeployment(embeddings.baseUrl) } },
    { recorder: { flushIntervalMs: 5 } },
  );
  for (let i = 0; i < EXCHANGES; i++) {
    // A history of one earlier pair: llm's `responses` gets a history row besides the live one.
    const body = {
      model: "gpt",
      messages: [
        { role: "user", content: `first ${i}` },
        { role: "assistant", content: `answer ${i}` },
        { role: "user", content: `second ${i}` },
      ],
    };
    expect((await chat(proxy, body, { "x-request-id": `chat-${i}` })).status).toBe(200);
  }
  for (let i = 0; i < 3; i++) {
    const answer = await send(`${proxy.baseURL}/embeddings`, {
      body: { model: "embed", input: `text ${i}` },
      headers: { "x-request-id": `embed-${i}` },
    });
    expect(answer.status).toBe(200);
  }
  await until(
    "every exchange recorded",
    () =>
      rows(proxy.dbPath, "select response_id from llm_relay_exchanges").length === EXCHANGES &&
      rows(proxy.dbPath, "select id from llm_relay_embeddings").length === 3,
  );
});
afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
  await embeddings?.close();
});

it("writes every datetime_utc in llm's format for its table, with real µs in the ms of the record's ULID, non-decreasing in request order", () => {
  const tables: [string, RegExp][] = [
    ["responses", ISOFORMAT],
    ["turns", ISOFORMAT],
    ["threads", PY_STR],
    ["llm_relay_exchanges", ISOFORMAT],
    ["llm_relay_embeddings", ISOFORMAT],
  ];
  for (const [table, format] of tables) {
    const times = rows<{ t: string }>(proxy.dbPath, `select datetime_utc as t from ${table}`).map((r) => r.t);
    expect(times.length, table).toBeGreaterThan(0);
    for (const t of times) expect(t, table).toMatch(format);
    // Old code padded ms with "000"; with real µs a row ends so with odds 1/1000, all rows of a table (3 or more) at most 1/10^9.
    expect(
      times.some((t) => !t.endsWith("000+00:00")),
      table,
    ).toBe(true);
  }

  const live = rows<{ request_id: string; id: string; r: string; t: string; th: string; x: string }>(
    proxy.dbPath,
    `select x.request_id, r.id, r.datetime_utc as r, t.datetime_utc as t, th.datetime_utc as th, x.datetime_utc as x
       from llm_relay_exchanges x join responses r on r.id = x.response_id join turns t on t.id = r.id join threads th on th.id = t.thread_id`,
  ).sort((a, b) => Number(a.request_id.slice(5)) - Number(b.request_id.slice(5)));
  expect(live.map((row) => row.request_id)).toEqual(Array.from({ length: EXCHANGES }, (_, i) => `chat-${i}`));
  for (const row of live) {
    const us = micros(row.r);
    expect(Math.floor(us / 1000), row.id).toBe(decodeTime(row.id.toUpperCase()));
    // One start time for the exchange: the turn, the thread it opened and the relay's row agree to the µs.
    expect([micros(row.t), micros(row.th), micros(row.x)]).toEqual([us, us, us]);
    expect(row.th).toBe(row.r.replace("T", " "));
  }
  const times = live.map((row) => micros(row.r));
  expect(times).toEqual([...times].sort((a, b) => a - b));

  // The history row written with each live row shows the same start.
  const history = rows<{ conversation_id: string; t: string }>(
    proxy.dbPath,
    "select conversation_id, datetime_utc as t from responses where id not in (select response_id from llm_relay_exchanges)",
  );
  expect(history).toHaveLength(EXCHANGES);
  const byConversation = new Map(
    rows<{ conversation_id: string; t: string }>(
      proxy.dbPath,
      "select r.conversation_id, r.datetime_utc as t from responses r join llm_relay_exchanges x on x.response_id = r.id",
    ).map((r) => [r.conversation_id, r.t]),
  );
  for (const row of history) expect(row.t).toBe(byConversation.get(row.conversation_id));

  const embedded = rows<{ id: string; t: string }>(
    proxy.dbPath,
    "select id, datetime_utc as t from llm_relay_embeddings",
  );
  for (const row of embedded) expect(Math.floor(micros(row.t) / 1000)).toBe(decodeTime(row.id.toUpperCase()));
});

it("formats µs as Python does: six digits, none when they are 0", () => {
  const ms = Date.parse("2026-11-21T09:00:00.100Z");
  expect(llmDatetime(ms + 0.123)).toBe("2026-11-21T09:00:00.100123+00:00");
  expect(threadDatetime(ms + 0.123)).toBe("2026-11-21 09:00:00.100123+00:00");
  expect(llmDatetime(ms + 0.001)).toBe("2026-11-21T09:00:00.100001+00:00");
  expect(llmDatetime(Date.parse("2026-11-21T09:00:00Z") + 0.007)).toBe("2026-11-21T09:00:00.000007+00:00");
  expect(llmDatetime(Date.parse("2026-11-21T09:00:00Z"))).toBe("2026-11-21T09:00:00+00:00");
  expect(threadDatetime(Date.parse("2026-11-21T09:10:00Z"))).toBe("2026-11-21 09:10:00+00:00");
  expect(llmDatetime(Date.parse("2026-11-21T09:00:00.999Z") + 0.999)).toBe("2026-11-21T09:00:00.999999+00:00");
});

it("takes start times that never go backwards, in the wall clock's ms", () => {
  let last = startTime();
  for (let i = 0; i < 10_000; i++) {
    const before = Date.now();
    const now = startTime();
    const after = Date.now();
    expect(now.us).toBeGreaterThanOrEqual(last.us);
    expect(now.ms).toBe(Math.floor(now.us / 1000));
    expect(now.ms).toBeGreaterThanOrEqual(Math.min(before, last.ms));
    expect(now.ms).toBeLessThanOrEqual(Math.max(after, last.ms));
    last = now;
  }
});

it("takes a logged datetime_utc as a --since/--until bound to the µs", () => {
  expect(parseTimeBound("2026-11-21T09:00:00.100123+00:00")).toBe("2026-11-21T09:00:00.100123+00:00");
  expect(parseTimeBound("2026-11-21 09:00:00.000007+00:00")).toBe("2026-11-21T09:00:00.000007+00:00");
  expect(parseTimeBound("2026-11-21T09:00:00.25Z")).toBe("2026-11-21T09:00:00.250000+00:00");
  expect(parseTimeBound("2026-11-21")).toBe("2026-11-21T00:00:00+00:00");
});
