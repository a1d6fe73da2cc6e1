/**
 * The usage ledger shares the logs.db with the recorder's worker and with
 * other processes (`llm-relay keys`, `llm`, Datasette). While another
 * connection holds the file's write lock, the proxy keeps answering
 * requests and keeps the ledger rows it could not write yet; once the lock
 * is released they are written, none lost. (A write that waited for the
 * lock would hold up the event loop for the whole busy timeout, then fail
 * and drop its batch.)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { afterEach, expect, it } from "vitest";
import { chat, chatBody } from "../helpers/exchanges.js";
import { rows } from "../helpers/db.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let proxy: TestProxy | null = null;
let holder: ChildProcess | null = null;
afterEach(async () => {
  holder?.kill();
  holder = null;
  await proxy?.close();
  proxy = null;
});

/** Another process that takes the write lock of `dbPath` and keeps it until it reads a line. */
async function holdWriteLock(dbPath: string): Promise<{ release(): Promise<void> }> {
  const script = `
    const Database = require("better-sqlite3");
    const db = new Database(${JSON.stringify(dbPath)});
    db.exec("BEGIN IMMEDIATE");
    process.stdout.write("locked\\n");
    process.stdin.once("data", () => { db.exec("COMMIT"); db.close(); process.exit(0); });`;
  const child = spawn(process.execPath, ["-e", script], { cwd: process.cwd(), stdio: ["pipe", "pipe", "inherit"] });
  holder = child;
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  expect(line).toBe("locked");
  return {
    async release() {
      child.stdin!.write("release\n");
      await once(child, "exit");
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it("answers while another process holds the logs.db lock, and books the exchanges once it is released", async () => {
  // Recording off: the exchanges are booked straight from this thread (no worker to wait behind).
  proxy = await startTestProxy({ record: false });
  const lock = await holdWriteLock(proxy.dbPath);

  expect((await chat(proxy, chatBody("echo"))).status).toBe(200);
  // The ledger batch is due after 50 ms and finds the file locked.
  await sleep(200);
  expect((await chat(proxy, chatBody("echo"))).status).toBe(200);
  await sleep(200);
  expect(rows(proxy.dbPath, "select count(*) as n from llm_relay_usage")).toEqual([{ n: 0 }]);

  await lock.release();
  await proxy.server.ctx.booking.drain();
  expect(rows(proxy.dbPath, "select model, input_tokens > 0 as counted from llm_relay_usage order by created_at")).toEqual([
    { model: "echo", counted: 1 },
    { model: "echo", counted: 1 },
  ]);
});
