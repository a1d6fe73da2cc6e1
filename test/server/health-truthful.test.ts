/**
 * `/health` and `GET /internal/health` answer from the recorder's own
 * state: no statement and no lock on the logs.db from the main thread. A
 * lock another connection holds, or the record worker busy writing a
 * burst, is no failure (200); records the store cannot take are (see
 * record-path-disk-full.test.ts).
 */
import Database from "better-sqlite3";
import { afterEach, expect, it } from "vitest";
import { healthEnvelopeSchema } from "../../src/server/envelope-schemas.js";
import { rows } from "../helpers/db.js";
import { chat, chatBody, send } from "../helpers/exchanges.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

let proxy: TestProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

it("stays 200 while another connection holds BEGIN IMMEDIATE on the logs.db and nothing waits to be written", async () => {
  proxy = await startTestProxy();
  const p = proxy;
  const other = new Database(p.dbPath);
  other.exec("BEGIN IMMEDIATE");
  try {
    const health = await send(`${p.url}/health`);
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({
      status: "ok",
      db: { writable: true },
      recorder: { state: "ok", queued: 0, kept: 0 },
      reasons: [],
    });

    const internal = await send(`${p.url}/internal/health`);
    expect(internal.status).toBe(200);
    const envelope = healthEnvelopeSchema.parse(internal.json);
    expect(envelope.data.status).toBe("ok");
    expect(envelope.data.store.writable).toBe(true);
    expect(envelope.data.recorder).toMatchObject({ state: "ok", kept: 0, failedWrites: 0, reasons: [] });
  } finally {
    other.exec("ROLLBACK");
    other.close();
  }
});

/** `count` distinct words (so that full-text indexing has work to do). */
function words(seed: number, count: number): string {
  return Array.from({ length: count }, (_, i) => `w${(seed * 7919 + i * 104_729) % 1_000_003}`).join(" ");
}

it("stays 200 on every poll while the worker writes a burst of recorded exchanges", async () => {
  // Large batches of long prompts: each transaction holds the file's write lock for a while.
  proxy = await startTestProxy({}, { recorder: { flushIntervalMs: 250 } });
  const p = proxy;
  const total = 200;
  let next = 0;
  let done = false;
  const client = async () => {
    while (next < total) {
      const n = next++;
      const answer = await chat(
        p,
        chatBody("echo", { messages: [{ role: "user", content: `burst ${n} ${words(n, 2_000)}` }] }),
        { "x-request-id": `burst-${n}` },
      );
      expect(answer.status).toBe(200);
    }
  };
  const polls: number[] = [];
  const poller = async () => {
    while (!done) {
      polls.push((await send(`${p.url}/health`)).status);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const polling = poller();
  try {
    await Promise.all(Array.from({ length: 8 }, client));
    await p.server.ctx.recorder.flush();
  } finally {
    done = true;
    await polling;
  }
  expect(rows<{ n: number }>(p.dbPath, "select count(*) as n from llm_relay_exchanges")[0]!.n).toBe(total);
  expect(polls.length).toBeGreaterThan(10);
  expect(polls.filter((status) => status !== 200)).toEqual([]);
}, 60_000);

it("answers 503 while the recorder is backlogged (maxQueued records wait), and 200 once they are written", async () => {
  proxy = await startTestProxy({}, { recorder: { maxBatch: 2, maxQueued: 4, flushIntervalMs: 5 } });
  const p = proxy;
  const other = new Database(p.dbPath);
  other.exec("BEGIN EXCLUSIVE");
  try {
    for (let n = 1; n <= 4; n++)
      expect((await chat(p, chatBody("echo"), { "x-request-id": `backlog-${n}` })).status).toBe(200);
    const health = await send(`${p.url}/health`);
    expect(health.status).toBe(503);
    const body = health.json as { status: string; recorder: { queued: number }; reasons: string[] };
    expect(body.status).toBe("degraded");
    expect(body.recorder.queued).toBe(4);
    expect(body.reasons.join(" ")).toMatch(/at or above the high mark of 4/);
  } finally {
    other.exec("COMMIT");
    other.close();
  }
  const recorded = () => rows<{ n: number }>(p.dbPath, "select count(*) as n from llm_relay_exchanges")[0]!.n;
  await until(
    "the 4 exchanges recorded and /health 200",
    async () => recorded() >= 4 && (await send(`${p.url}/health`)).status === 200,
    { timeoutMs: 20_000 },
  );
}, 30_000);
