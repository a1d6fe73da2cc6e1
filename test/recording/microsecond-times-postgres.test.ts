/**
 * The PostgreSQL store writes the same `datetime_utc` texts as the SQLite
 * one: llm's formats, with the real microseconds of the exchange's start
 * (see microsecond-times.test.ts). Through a real proxy on a real server.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { decodeTime } from "ulid";
import { chat } from "../helpers/exchanges.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { ISOFORMAT, micros, PY_STR } from "../helpers/llm-times.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

const EXCHANGES = 6;
let upstream: FakeUpstream;
let schema: TestSchema;
let proxy: TestProxy;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  schema = await createTestSchema();
  proxy = await startTestProxy(
    { databaseUrl: schema.url, models: { gpt: fakeDeployment(upstream.baseUrl) } },
    { recorder: { flushIntervalMs: 5 } },
  );
  for (let i = 0; i < EXCHANGES; i++) {
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
  await until(
    "every exchange recorded",
    async () => (await schema.count(`SELECT 1 FROM llm_relay_exchanges`)) === EXCHANGES,
  );
});
afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
  await schema?.drop();
});

it("writes every datetime_utc in llm's format for its table, with real µs in the ms of the record's ULID", async () => {
  for (const [table, format] of [
    ["responses", ISOFORMAT],
    ["turns", ISOFORMAT],
    ["threads", PY_STR],
    ["llm_relay_exchanges", ISOFORMAT],
  ] as const) {
    const times = (await schema.rows<{ t: string }>(`SELECT datetime_utc AS t FROM ${table}`)).map((r) => r.t);
    expect(times.length, table).toBeGreaterThanOrEqual(EXCHANGES);
    for (const t of times) expect(t, table).toMatch(format);
    // Old code padded ms with "000"; with real µs all rows of a table end so with odds at most 1/10^18.
    expect(
      times.some((t) => !t.endsWith("000+00:00")),
      table,
    ).toBe(true);
  }
  const live = await schema.rows<{ request_id: string; id: string; r: string; t: string; th: string; x: string }>(
    `SELECT x.request_id, r.id, r.datetime_utc AS r, t.datetime_utc AS t, th.datetime_utc AS th, x.datetime_utc AS x
       FROM llm_relay_exchanges x JOIN responses r ON r.id = x.response_id JOIN turns t ON t.id = r.id JOIN threads th ON th.id = t.thread_id
      ORDER BY x.request_id`,
  );
  expect(live).toHaveLength(EXCHANGES);
  for (const row of live) {
    const us = micros(row.r);
    expect(Math.floor(us / 1000), row.id).toBe(decodeTime(row.id.toUpperCase()));
    expect([micros(row.t), micros(row.th), micros(row.x)]).toEqual([us, us, us]);
  }
  const times = live.map((row) => micros(row.r));
  expect(times).toEqual([...times].sort((a, b) => a - b));
  const history = await schema.rows<{ t: string; live: string }>(
    `SELECT h.datetime_utc AS t, l.datetime_utc AS live FROM responses h JOIN responses l ON l.conversation_id = h.conversation_id AND l.id <> h.id
      WHERE h.id NOT IN (SELECT response_id FROM llm_relay_exchanges)`,
  );
  expect(history).toHaveLength(EXCHANGES);
  for (const row of history) expect(row.t).toBe(row.live);
});
