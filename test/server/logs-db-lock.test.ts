/**
 * The usage ledger and the `Idempotency-Key` records share the logs.db
 * with the recorder's worker and with other processes (`llm-relay keys`,
 * `llm`, Datasette). While another connection holds the file's write lock,
 * the proxy keeps answering other requests: the ledger keeps the rows it
 * could not write yet and writes them, none lost, once the lock is
 * released; a request with an `Idempotency-Key`, or a `POST /internal/usage`,
 * waits for the lock without holding up the others. (better-sqlite3 waits for a lock synchronously: a
 * write that waited would hold up the event loop for the whole busy
 * timeout.)
 */
import { afterEach, expect, it, vi } from "vitest";
import { chat, chatBody, send } from "../helpers/exchanges.js";
import { rows } from "../helpers/db.js";
import { holdWriteLock, type LockHolder } from "../helpers/lock-holder.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

let proxy: TestProxy | null = null;
let lock: LockHolder | null = null;
afterEach(async () => {
  vi.restoreAllMocks();
  lock?.kill();
  lock = null;
  await proxy?.close();
  proxy = null;
});

/** Whether a promise has settled yet, read without waiting for it. */
function settledFlag(promise: Promise<unknown>): () => boolean {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return () => settled;
}

it("answers while another process holds the logs.db lock, and books the exchanges once it is released", async () => {
  // Recording off: the exchanges are booked straight from this thread (no worker to wait behind).
  proxy = await startTestProxy({ record: false });
  const batches = vi.spyOn(proxy.server.ctx.tenancy.ledger, "recordMany");
  lock = await holdWriteLock(proxy.dbPath);

  expect((await chat(proxy, chatBody("echo"))).status).toBe(200);
  // The ledger batch is due after 50 ms and finds the file locked: it keeps its row and tries again on a timer.
  await until("the first ledger batch under way", () => batches.mock.results.length === 1);
  const firstBatchDone = settledFlag(batches.mock.results[0]!.value as Promise<unknown>);
  // Answered while that batch still waits for the lock with its row kept (a batch that gave up on
  // the lock would have settled by now, its row lost).
  expect((await chat(proxy, chatBody("echo"))).status).toBe(200);
  expect(firstBatchDone()).toBe(false);

  await lock.release();
  // The recorder hands each exchange to the ledger once its batch is due (recording off too): then drain the ledger.
  await proxy.server.ctx.recorder.flush();
  await proxy.server.ctx.booking.drain();
  expect(
    rows(proxy.dbPath, "select model, input_tokens > 0 as counted from llm_relay_usage order by created_at"),
  ).toEqual([
    { model: "echo", counted: 1 },
    { model: "echo", counted: 1 },
  ]);
});

it("a request with an Idempotency-Key waits for the lock without holding up other requests, then answers and replays", async () => {
  proxy = await startTestProxy({ record: false });
  lock = await holdWriteLock(proxy.dbPath);

  const begin = vi.spyOn(proxy.server.ctx.tenancy.idempotency, "begin");
  const keyed = chat(proxy, chatBody("echo"), { "idempotency-key": "lock-test-1" });
  const keyedSettled = settledFlag(keyed);
  // The keyed request has reached the store, which finds the file locked.
  await until("the keyed request's idempotency record under way", () => begin.mock.calls.length === 1);
  const other = await chat(proxy, chatBody("echo"));
  expect(other.status).toBe(200);
  expect(keyedSettled()).toBe(false);

  await lock.release();
  const first = await keyed;
  expect(first.status).toBe(200);
  const replay = await chat(proxy, chatBody("echo"), { "idempotency-key": "lock-test-1" });
  expect(replay.status).toBe(200);
  expect(replay.json).toEqual(first.json);
  expect((first.json as { id?: string }).id).toBeTruthy();
  expect(rows(proxy.dbPath, "select state from llm_relay_idempotency where idempotency_key = 'lock-test-1'")).toEqual([
    { state: "done" },
  ]);
});

it("POST /internal/usage waits for the lock without holding up other requests, then records the row", async () => {
  proxy = await startTestProxy({ record: false });
  lock = await holdWriteLock(proxy.dbPath);

  const record = vi.spyOn(proxy.server.ctx.tenancy.ledger, "record");
  const usage = send(`${proxy.url}/internal/usage`, {
    body: { model: "gpt-4o-mini", inputTokens: 12, idempotencyKey: "lock-usage-1" },
  });
  const usageSettled = settledFlag(usage);
  // The usage row has reached the ledger, which finds the file locked.
  await until("the /internal/usage row under way", () => record.mock.calls.length === 1);
  expect((await chat(proxy, chatBody("echo"))).status).toBe(200);
  expect(usageSettled()).toBe(false);

  await lock.release();
  expect((await usage).status).toBe(201);
  expect(
    rows(
      proxy.dbPath,
      "select model, input_tokens from llm_relay_usage where idempotency_key = 'client:default:lock-usage-1'",
    ),
  ).toEqual([{ model: "gpt-4o-mini", input_tokens: 12 }]);
});
