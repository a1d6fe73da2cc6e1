/**
 * A full disk drops nothing: with the record store's file capped at its
 * current size (SQLite's `max_page_count`, on the store's own connection),
 * every request is still answered, the records the store cannot take are
 * kept (and `/health` says so with 503), and once there is room again they
 * are all written, in the order they were answered, with none counted as
 * failed.
 */
import fs from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { chatCompletionRequestSchema, samplingOptions } from "../../src/protocol/chat-request.js";
import { Recorder } from "../../src/recording/recorder.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { ExchangeRecord } from "../../src/recording/types.js";
import { newUlid } from "../../src/recording/ulid.js";
import { errorEnvelopeSchema } from "../../src/server/envelope-schemas.js";
import { startRelayServer, type RelayServer } from "../../src/server/relay-server.js";
import { rows } from "../helpers/db.js";
import { chat, chatBody, send } from "../helpers/exchanges.js";
import { tempDir, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

let server: RelayServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  server = dir = undefined;
});

/** An assembled record of an answered exchange (as tools and benchmarks hand them to the recorder). */
function record(prompt: string, requestId: string): ExchangeRecord {
  const body = { model: "m", messages: [{ role: "user", content: prompt }] };
  const parsed = chatCompletionRequestSchema.parse(body);
  return {
    id: newUlid(),
    requestId,
    startedAt: Date.now(),
    durationMs: 5,
    ttftMs: null,
    requestedModel: "m",
    resolvedModel: null,
    provider: "echo",
    deployment: "echo",
    upstreamModel: "echo",
    requestBody: body,
    messages: parsed.messages,
    options: samplingOptions(parsed),
    stream: false,
    responseText: `answer to ${prompt}`,
    toolCalls: [],
    finishReason: "stop",
    usage: null,
    responseJson: null,
    httpStatus: 200,
    status: "ok",
    error: null,
  };
}

interface Health {
  status: string;
  db: { writable: boolean };
  recorder: {
    state: string;
    queued: number;
    kept: number;
    written: number;
    failed_writes: number;
    last_error: string | null;
  };
  reasons: string[];
}

it("keeps the records a full disk refuses, says so on /health, and writes them all in order once there is room", async () => {
  dir = tempDir();
  const dbPath = path.join(dir, "logs.db");
  const store = SqliteStore.open(dbPath);
  const config = { ...loadConfig({ cwd: dir, env: {}, db: dbPath, port: 0 }) };
  server = await startRelayServer(config, {
    logger: pino({ level: "silent" }),
    env: {},
    store,
    recorder: { flushIntervalMs: 5 },
  });
  const proxy = { baseURL: `${server.url}/v1` } as TestProxy;
  const health = async () => {
    const answer = await send(`${server!.url}/health`);
    return { status: answer.status, body: answer.json as Health };
  };

  // The disk is full: the file may not grow past the pages it has.
  const pages = store.pragma("page_count") as [{ page_count: number }];
  store.pragma(`max_page_count = ${pages[0].page_count}`);

  const ids = Array.from({ length: 100 }, (_, n) => `full-${String(n).padStart(3, "0")}`);
  for (const id of ids) {
    const answer = await chat(
      proxy,
      chatBody("echo", { messages: [{ role: "user", content: `${id} ${"some text to store ".repeat(20)}` }] }),
      { "x-request-id": id },
    );
    expect(answer.status).toBe(200);
  }

  await until("/health degraded with records kept", async () => {
    const h = await health();
    return h.status === 503 && h.body.recorder.kept > 0;
  });
  const full = await health();
  expect(full.body).toMatchObject({
    status: "degraded",
    db: { writable: false },
    recorder: { state: "retrying", failed_writes: 0 },
  });
  expect(full.body.recorder.last_error).toMatch(/^SQLITE_FULL/);
  expect(full.body.reasons.join(" ")).toMatch(/kept for retry/);
  const internal = await send(`${server.url}/internal/health`);
  expect(internal.status).toBe(503);
  expect(errorEnvelopeSchema.parse(internal.json).error.details).toMatchObject({
    status: "degraded",
    store: { writable: false },
    recorder: { state: "retrying", failedWrites: 0 },
  });
  const writtenWhileFull = full.body.recorder.written;
  expect(writtenWhileFull).toBeLessThan(ids.length);

  // Room again.
  store.pragma("max_page_count = 1073741823");
  const recorded = () =>
    rows<{ request_id: string }>(dbPath, "select request_id from llm_relay_exchanges order by rowid").map(
      (row) => row.request_id,
    );
  await until("all 100 exchanges recorded", () => recorded().length === ids.length, { timeoutMs: 30_000 });
  expect(recorded()).toEqual(ids);
  const byId = rows<{ request_id: string }>(
    dbPath,
    "select request_id from llm_relay_exchanges order by response_id",
  ).map((row) => row.request_id);
  expect(byId).toEqual(ids);
  await until("/health ok again", async () => (await health()).status === 200, { timeoutMs: 30_000 });
  const after = await health();
  expect(after.body).toMatchObject({
    status: "ok",
    db: { writable: true },
    recorder: { state: "ok", kept: 0, written: ids.length, failed_writes: 0 },
    reasons: [],
  });
}, 60_000);

it("close() keeps trying the records a full disk refused, and writes them once there is room", async () => {
  dir = tempDir();
  const dbPath = path.join(dir, "logs.db");
  const store = SqliteStore.open(dbPath);
  const hooked: string[] = [];
  const recorder = new Recorder(store, pino({ level: "silent" }), {
    onRecorded: (summary) => hooked.push(summary.requestId),
  });
  const pages = store.pragma("page_count") as [{ page_count: number }];
  store.pragma(`max_page_count = ${pages[0].page_count}`);
  const prompts = Array.from(
    { length: 50 },
    (_, n) => `closing-${String(n).padStart(2, "0")} ${"some text to store ".repeat(20)}`,
  );
  prompts.forEach((prompt, n) => recorder.enqueue(record(prompt, `req-${n}`)));
  const closed = recorder.close();
  await until("records kept", () => recorder.health().kept > 0);
  expect(recorder.health()).toMatchObject({ status: "degraded", state: "retrying" });
  store.pragma("max_page_count = 1073741823");
  await closed;
  expect(recorder.failedWrites).toBe(0);
  expect(
    rows<{ prompt: string }>(dbPath, "select prompt from responses order by rowid").map((row) => row.prompt),
  ).toEqual(prompts);
  expect(hooked).toEqual(prompts.map((_, n) => `req-${n}`));
});
