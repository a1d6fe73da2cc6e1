/**
 * Backpressure: while the recorder cannot write (another connection holds
 * the logs.db's write lock) and `maxQueued` exchanges wait, new requests
 * are held back instead of piling up in memory; once the lock is gone they
 * are answered, and every exchange is recorded — none dropped.
 */
import Database from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import { recordedExchanges } from "../helpers/exchanges.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

let proxy: TestProxy | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await proxy?.close();
  proxy = undefined;
});

function ask(p: TestProxy, n: number): Promise<Response> {
  return fetch(`${p.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": `bp-${n}` },
    body: JSON.stringify({ model: "echo", messages: [{ role: "user", content: `request ${n}` }] }),
  });
}

describe("recorder backpressure", () => {
  it("holds new requests while maxQueued exchanges wait to be written, then answers and records them all", async () => {
    proxy = await startTestProxy({}, { recorder: { maxBatch: 2, maxQueued: 4, flushIntervalMs: 5 } });
    const p = proxy;
    const lock = new Database(p.dbPath);
    lock.exec("BEGIN EXCLUSIVE");
    try {
      // Four exchanges are answered and queued: the recorder cannot write them.
      for (let n = 1; n <= 4; n++) expect((await ask(p, n)).status).toBe(200);
      expect(p.server.ctx.recorder.queued).toBe(4);

      // The next ones wait for room: each is handed a promise by the recorder's gate instead of going on.
      const gate = vi.spyOn(p.server.ctx.recorder, "whenRoom");
      const settled: number[] = [];
      const held = [5, 6, 7].map((n) => ask(p, n).then((answer) => (settled.push(n), answer)));
      await until(
        "the 3 requests held at the recorder's gate",
        () => gate.mock.results.filter((r) => r.value !== null).length === 3,
      );
      // A GET passes the gate: its answer comes after the held requests reached it, and none of them has been answered.
      const metrics = await (await fetch(`${p.url}/metrics`)).text();
      expect(settled).toEqual([]);
      expect(metrics).toMatch(/^llm_relay_recorder_queue_depth 4$/m);

      lock.exec("COMMIT");
      const answers = await Promise.all(held);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    } finally {
      if (lock.inTransaction) lock.exec("ROLLBACK");
      lock.close();
    }
    const recorded = (await recordedExchanges(p)).map((row) => row.request_id).sort();
    expect(recorded).toEqual(["bp-1", "bp-2", "bp-3", "bp-4", "bp-5", "bp-6", "bp-7"]);
    expect(p.server.ctx.recorder.failedWrites).toBe(0);
  });
});
