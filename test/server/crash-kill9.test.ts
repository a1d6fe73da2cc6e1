/**
 * A crash loses no bill: the real `llm-relay serve` process, under
 * concurrent load from 8 clients against a fake upstream on loopback, is
 * killed with SIGKILL. Afterwards every recorded exchange has its ledger
 * row (by `metadata.response_id`; on the old code the row was written by
 * the server 50 ms after the record, from memory, and a crash lost it — 219
 * of 1,452 in the issue — with no catching up on restart), the file passes
 * `PRAGMA integrity_check`, and a server restarted on the same file serves,
 * records and bills.
 *
 * Exchanges answered to the client but not yet in the file are the
 * recorder's batch window (it writes every 50 ms or 512 exchanges, off the
 * request path): they are counted and printed, not asserted.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { killAll, outputOf, startServe, withTimeout, type ServeProcess } from "../helpers/cli.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { tempDir } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

const CLIENTS = 8;
/** The kill comes once this many requests were answered (the load is under way, batches are being written)… */
const ANSWERED_BEFORE_KILL = 400;
/** …or after this long, in ms, whichever comes first. */
const LOAD_MAX_MS = 8_000;

let dir: string;
let fake: FakeUpstream;

beforeEach(async () => {
  dir = tempDir("llm-relay-crash-");
  fake = await startFakeUpstream();
  fake.behave({ kind: "ok", text: "billed answer" });
});
afterEach(async () => {
  await killAll();
  await fake.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function serve(dbPath: string): Promise<ServeProcess> {
  const configPath = path.join(dir, "relay.yaml");
  fs.writeFileSync(
    configPath,
    [
      "models:",
      "  m:",
      "    provider: openai-compatible",
      `    base_url: ${fake.baseUrl}`,
      "    timeout_ms: 5000",
      "",
    ].join("\n"),
  );
  return startServe(["--config", configPath, "--db", dbPath, "--port", "0"], { cwd: dir });
}

/** One chat request with its own `x-request-id`; resolves true when it was answered 200. */
async function ask(url: string, requestId: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": requestId },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: `question ${requestId}` }] }),
    });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false; // the server died under this request
  }
}

/** Runs the clients until `stop()` is true, adding the request ids answered 200 to `answered`. */
async function load(url: string, stop: () => boolean, answered: string[]): Promise<void> {
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let n = 0; !stop(); n++) {
        const id = `req_c${client}_${n}`;
        if (await ask(url, id)) answered.push(id);
      }
    }),
  );
}

/** Runs `fn` on a read-write connection (a file left by a crash has a WAL to recover). */
function withFile<T>(dbPath: string, fn: (db: Database.Database) => T): T {
  const db = new Database(dbPath);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

describe("llm-relay serve killed with SIGKILL under load", () => {
  it("leaves every recorded exchange with its ledger row, an intact file, and a server that restarts on it", async () => {
    const dbPath = path.join(dir, "logs.db");
    const first = await serve(dbPath);
    let killed = false;
    const answered: string[] = [];
    const started = Date.now();
    const answering = load(first.url, () => killed, answered);
    await until("load", () => answered.length >= ANSWERED_BEFORE_KILL || Date.now() - started > LOAD_MAX_MS, {
      timeoutMs: LOAD_MAX_MS + 1_000,
    });
    // Kill while requests are in flight, right after a batch of records committed: the moment the old
    // code still held their bills in memory (booked up to 50 ms later).
    const reader = new Database(dbPath, { readonly: true });
    const recordedCount = reader.prepare(`SELECT count(*) AS n FROM llm_relay_exchanges`).pluck();
    const before = recordedCount.get() as number;
    await until("a batch committed under load", () => (recordedCount.get() as number) > before, {
      timeoutMs: 5_000,
      everyMs: 2,
    });
    first.child.kill("SIGKILL");
    reader.close();
    await first.waitForExit(5_000);
    killed = true;
    const loadMs = Date.now() - started;
    await withTimeout(answering, 10_000, () => "the clients did not stop");

    const check = withFile(dbPath, (db) => ({
      integrity: db.pragma("integrity_check", { simple: true }),
      exchanges: db.prepare(`SELECT response_id, request_id FROM llm_relay_exchanges`).all() as {
        response_id: string;
        request_id: string;
      }[],
      unbilled: db
        .prepare(
          `SELECT e.response_id FROM llm_relay_exchanges e
            WHERE NOT EXISTS (SELECT 1 FROM llm_relay_usage u WHERE json_extract(u.metadata, '$.response_id') = e.response_id)`,
        )
        .all(),
      usage: (db.prepare(`SELECT count(*) AS n FROM llm_relay_usage`).get() as { n: number }).n,
    }));
    const recordedIds = new Set(check.exchanges.map((e) => e.request_id));
    const lost = answered.filter((id) => !recordedIds.has(id));
    console.log(
      `kill -9 after ${loadMs} ms of ${CLIENTS} clients: ${answered.length} answered, ${check.exchanges.length} recorded, ` +
        `${check.usage} ledger rows, ${check.unbilled.length} recorded without a bill, ${lost.length} answered but not recorded ` +
        `(the recorder's batch window: 50 ms / 512 exchanges)`,
    );
    expect(check.integrity).toBe("ok");
    expect(check.exchanges.length, outputOf(first)).toBeGreaterThan(20);
    expect(check.unbilled).toEqual([]);
    expect(check.usage).toBe(check.exchanges.length);

    // A server on the same file serves, records and bills.
    const second = await serve(dbPath);
    expect(await ask(second.url, "req_after_restart")).toBe(true);
    await until(
      () => `the exchange after the restart to be billed\n${outputOf(second)}`,
      () =>
        withFile(
          dbPath,
          (db) =>
            db
              .prepare(`SELECT 1 FROM llm_relay_usage WHERE idempotency_key = 'request:default:req_after_restart'`)
              .get() !== undefined,
        ),
      { timeoutMs: 10_000 },
    );
    expect(
      withFile(dbPath, (db) =>
        db.prepare(`SELECT count(*) AS n FROM llm_relay_exchanges WHERE request_id = 'req_after_restart'`).get(),
      ),
    ).toEqual({ n: 1 });
  }, 60_000);
});
