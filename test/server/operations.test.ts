/**
 * What an operator sees of a running proxy: the model list and lookup,
 * `record: false`, `/health` while another process locks the database,
 * a database that rejects writes, request ids and the overhead header.
 */
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { chat, chatBody, recordedExchange, recordedExchanges, send } from "../helpers/exchanges.js";
import { parsePrometheusText, sampleValue } from "../helpers/prometheus.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";
import { match } from "../helpers/matchers.js";

/** Nothing listens there; listing models never calls the upstream. */
const UNUSED_UPSTREAM = "http://127.0.0.1:9/v1";

let proxy: TestProxy;
beforeAll(async () => {
  proxy = await startTestProxy({
    models: { up: fakeDeployment(UNUSED_UPSTREAM), "local/*": fakeDeployment(UNUSED_UPSTREAM) },
    aliases: { fast: "up", mirror: "echo" },
  });
});
afterAll(async () => proxy.close());

async function health(p: TestProxy) {
  const answer = await send(`${p.url}/health`);
  return {
    status: answer.status,
    body: answer.json as {
      status: string;
      db: { writable: boolean };
      recorder: {
        state: string;
        queued: number;
        kept: number;
        written: number;
        failed_writes: number;
        last_error_at: string | null;
      };
    },
  };
}
/**
 * One sample of `/metrics`. Only that metric's lines are parsed: prom-client prints an empty
 * event-loop-lag histogram as `Nan`, which the strict reader rejects (reported separately).
 */
async function metric(p: TestProxy, name: string, labels: Record<string, string> = {}): Promise<number> {
  const answer = await send(`${p.url}/metrics`);
  expect(answer.status).toBe(200);
  const lines = answer.text
    .split("\n")
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`) || line.includes(` ${name} `));
  expect(lines.length, `${name} in /metrics`).toBeGreaterThan(0);
  return sampleValue(parsePrometheusText(lines.join("\n")), name, labels);
}
const count = (p: TestProxy, table: string) =>
  rows<{ n: number }>(p.dbPath, `select count(*) as n from ${table}`)[0]!.n;

describe("models", () => {
  it("GET /v1/models/echo returns the model object", async () => {
    const answer = await send(`${proxy.baseURL}/models/echo`);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ id: "echo", object: "model", owned_by: "echo", created: match.any(Number) });
    expect(Number.isInteger((answer.json as { created: number }).created)).toBe(true);
  });

  it("GET /v1/models/nope answers as routing does: this proxy's default_model (echo) would serve it", async () => {
    // A name no route serves is 404 model_not_found (test/server/models-lookup.test.ts, on a proxy without a default).
    const answer = await send(`${proxy.baseURL}/models/nope`);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ id: "nope", object: "model", owned_by: "echo", created: match.any(Number) });
    const chat = await send(`${proxy.baseURL}/chat/completions`, {
      body: { model: "nope", messages: [{ role: "user", content: "hi" }] },
    });
    expect(chat.status).toBe(200);
  });

  it("lists aliases and prefix/* patterns with their provider as owned_by", async () => {
    const answer = await send(`${proxy.baseURL}/models`);
    expect(answer.status).toBe(200);
    const list = answer.json as { object: string; data: { id: string; owned_by: string; object: string }[] };
    expect(list.object).toBe("list");
    const owners = Object.fromEntries(list.data.map((m) => [m.id, m.owned_by]));
    expect(owners).toMatchObject({
      echo: "echo",
      up: "openai-compatible",
      fast: "openai-compatible",
      mirror: "echo",
      "local/*": "openai-compatible",
    });
    for (const model of list.data) expect(model.object).toBe("model");
  });
});

describe("request ids", () => {
  it.each([
    ["longer than 200 characters", "r".repeat(201)],
    ["with spaces", "my request id"],
  ])("replaces a client x-request-id %s with a generated req_ id, echoed and recorded", async (_case, sent) => {
    const answer = await chat(proxy, chatBody("echo"), { "x-request-id": sent });
    expect(answer.status).toBe(200);
    const id = answer.headers.get("x-request-id")!;
    expect(id).toMatch(/^req_[0-9a-hjkmnp-tv-z]{26}$/);
    expect((await recordedExchange(proxy, id)).status).toBe("ok");
    expect((await recordedExchanges(proxy)).filter((row) => row.request_id === sent)).toHaveLength(0);
  });

  it("keeps and records a usable client x-request-id", async () => {
    const answer = await chat(proxy, chatBody("echo"), { "x-request-id": "client-req-42" });
    expect(answer.headers.get("x-request-id")).toBe("client-req-42");
    expect((await recordedExchange(proxy, "client-req-42")).model).toBe("echo");
  });
});

describe("x-llm-relay-overhead-ms", () => {
  it("is on a non-streaming answer and not on a streaming one", async () => {
    const plain = await chat(proxy, chatBody("echo"));
    expect(plain.status).toBe(200);
    // Milliseconds with three decimals; a missing header (null) fails here rather than reading as 0.
    expect(plain.headers.get("x-llm-relay-overhead-ms")).toMatch(/^\d+\.\d{3}$/);
    const streamed = await chat(proxy, chatBody("echo", { stream: true }));
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(streamed.text).toContain("data: [DONE]");
    expect(streamed.headers.get("x-llm-relay-overhead-ms")).toBeNull();
  });
});

describe("record: false", () => {
  it("answers, stays healthy and counts exchanges in /metrics, but writes nothing", async () => {
    const off = await startTestProxy({ record: false });
    try {
      const plain = await chat(off, chatBody("echo"));
      const streamed = await chat(off, chatBody("echo", { stream: true }));
      expect([plain.status, streamed.status]).toEqual([200, 200]);
      expect(streamed.text).toContain("data: [DONE]");
      expect((await health(off)).status).toBe(200);
      await off.server.ctx.recorder.flush();
      expect(count(off, "responses")).toBe(0);
      expect(count(off, "llm_relay_exchanges")).toBe(0);
      // The registry is the proxy's own, so these two are all it has counted.
      expect(await metric(off, "llm_relay_exchanges_total", { provider: "echo", outcome: "ok" })).toBe(2);
    } finally {
      await off.close();
    }
  });
});

describe("a database locked by another process", () => {
  it("keeps /health ok while the file is merely locked, 503 while exchanges wait on the lock, and loses none", async () => {
    // The record worker's writes give up on the lock after 300 ms here (5 s by default), so the test sees
    // several failed tries in a second or two.
    const locked = await startTestProxy({}, { recordBusyTimeoutMs: 300 });
    const other = new Database(locked.dbPath);
    try {
      expect((await health(locked)).status).toBe(200);
      other.exec("BEGIN EXCLUSIVE");
      // /health takes no lock on the file: a lock alone, with nothing waiting to be written, is no failure.
      const during = await health(locked);
      expect(during.status).toBe(200);
      expect(during.body.db.writable).toBe(true);
      const ids = ["locked-1", "locked-2", "locked-3"];
      for (const id of ids) expect((await chat(locked, chatBody("echo"), { "x-request-id": id })).status).toBe(200);
      // Past the worker's busy timeout the batch is kept for retry, and /health says so.
      let firstFailureAt: unknown = null;
      await until(
        "/health 503 with records kept",
        async () => {
          const h = await health(locked);
          return (
            h.status === 503 &&
            h.body.status === "degraded" &&
            h.body.db.writable === false &&
            h.body.recorder.kept > 0 &&
            h.body.recorder.queued === 3 &&
            (firstFailureAt = h.body.recorder.last_error_at) !== null
          );
        },
        { timeoutMs: 20_000, everyMs: 100 },
      );
      // Tried again while still locked, failed again, and still kept: the batch is kept and retried, not given up.
      await until(
        "a second failed try on the lock, with the records still kept",
        async () => {
          const h = await health(locked);
          return (
            h.status === 503 &&
            h.body.recorder.last_error_at !== firstFailureAt &&
            h.body.recorder.kept === 3 &&
            h.body.recorder.failed_writes === 0 &&
            h.body.recorder.written === 0
          );
        },
        { timeoutMs: 20_000, everyMs: 100 },
      );
      // Released: the waiting retry gets the lock and writes the batch.
      other.exec("COMMIT");
      await until("the 3 exchanges in llm_relay_exchanges", () => count(locked, "llm_relay_exchanges") === 3);
      const recorded = rows<{ request_id: string }>(
        locked.dbPath,
        "select request_id from llm_relay_exchanges order by request_id",
      );
      expect(recorded.map((row) => row.request_id)).toEqual(ids);
      await until("/health 200 again", async () => (await health(locked)).status === 200);
      const after = await health(locked);
      expect(after.body.recorder.failed_writes).toBe(0);
      expect(after.body.recorder.written).toBe(3);
    } finally {
      if (other.inTransaction) other.exec("ROLLBACK");
      other.close();
      await locked.close();
    }
  });
});

describe("a database that rejects writes (not a lock)", () => {
  it("keeps serving, counts the lost records, and records again once writes are accepted", async () => {
    const rejecting = await startTestProxy();
    const other = new Database(rejecting.dbPath);
    try {
      other.exec(
        "CREATE TRIGGER test_reject BEFORE INSERT ON llm_relay_exchanges BEGIN SELECT RAISE(ABORT, 'rejected by test'); END",
      );
      for (const id of ["rejected-1", "rejected-2", "rejected-3"]) {
        expect((await chat(rejecting, chatBody("echo"), { "x-request-id": id })).status).toBe(200);
      }
      await rejecting.server.ctx.recorder.flush();
      expect((await health(rejecting)).body.recorder.failed_writes).toBe(3);
      expect(await metric(rejecting, "llm_relay_db_write_failures_total")).toBe(3);
      // Each record is written all or nothing: no orphan responses rows.
      expect(count(rejecting, "responses")).toBe(0);

      other.exec("DROP TRIGGER test_reject");
      expect((await chat(rejecting, chatBody("echo"), { "x-request-id": "accepted-again" })).status).toBe(200);
      expect((await recordedExchange(rejecting, "accepted-again")).status).toBe("ok");
      const after = await health(rejecting);
      expect(after.status).toBe(200);
      expect(after.body.recorder).toMatchObject({ failed_writes: 3, written: 1 });
    } finally {
      other.close();
      await rejecting.close();
    }
  });
});
