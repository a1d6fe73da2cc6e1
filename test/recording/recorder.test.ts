/**
 * The recorder in front of a real SQLite file: batches survive another
 * process holding the write lock, a record that cannot be written is
 * counted without losing its batch-mates, and missing usage is estimated.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chatCompletionRequestSchema, samplingOptions } from "../../src/protocol/chat-request.js";
import { Recorder } from "../../src/recording/recorder.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { ExchangeRecord } from "../../src/recording/types.js";
import { newUlid } from "../../src/recording/ulid.js";
import { rows } from "../helpers/db.js";
import { tempDir } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

let dir: string;
let dbPath: string;
beforeEach(() => {
  dir = tempDir();
  dbPath = path.join(dir, "logs.db");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function record(prompt: string, over: Partial<ExchangeRecord> = {}): ExchangeRecord {
  const body = { model: "m", messages: [{ role: "user", content: prompt }] };
  const parsed = chatCompletionRequestSchema.parse(body);
  const startedAt = Date.now();
  return {
    id: newUlid(startedAt),
    requestId: `req-${prompt}`,
    startedAt,
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
    ...over,
  };
}

const silent = pino({ level: "silent" });

describe("Recorder", () => {
  it("keeps a batch while another connection holds the write lock, and writes it once the lock is gone", async () => {
    const store = SqliteStore.open(dbPath, { busyTimeoutMs: 20 });
    const recorder = new Recorder(store, silent, { flushIntervalMs: 5 });
    const other = new Database(dbPath);
    other.exec("BEGIN EXCLUSIVE");
    for (const prompt of ["one", "two", "three"]) recorder.enqueue(record(prompt));
    const flushed = recorder.flush();
    await until("the batch kept for retry", () => recorder.health().kept === 3);
    expect(recorder.writtenRecords).toBe(0);
    other.exec("COMMIT");
    other.close();
    await flushed;
    await recorder.close();
    expect(recorder.failedWrites).toBe(0);
    expect(rows(dbPath, "select prompt from responses order by id").map((r) => r.prompt)).toEqual([
      "one",
      "two",
      "three",
    ]);
  });

  it("counts a record that cannot be written and still writes the rest of its batch", async () => {
    const store = SqliteStore.open(dbPath);
    const recorder = new Recorder(store, silent);
    // The store refuses it for its content, in full and in reduced form: its id is taken (a primary-key violation).
    const before = record("before");
    const poisoned = record("poison", { id: before.id });
    recorder.enqueue(before);
    recorder.enqueue(poisoned);
    recorder.enqueue(record("after"));
    await recorder.flush();
    expect(recorder.failedWrites).toBe(1);
    expect(recorder.writtenRecords).toBe(2);
    await recorder.close();
    expect(rows(dbPath, "select prompt from responses order by id").map((r) => r.prompt)).toEqual(["before", "after"]);
  });

  it("estimates the tokens of an exchange whose upstream reported no usage, and flags them", async () => {
    const store = SqliteStore.open(dbPath);
    const recorder = new Recorder(store, silent);
    recorder.enqueue(record("How many tokens is this prompt?"));
    await recorder.close();
    const [row] = rows<Record<string, number>>(
      dbPath,
      "select r.input_tokens, r.output_tokens, x.usage_estimated from responses r join llm_relay_exchanges x on x.response_id = r.id",
    );
    expect(row!.input_tokens).toBeGreaterThan(5);
    expect(row!.output_tokens).toBeGreaterThan(3);
    expect(row!.usage_estimated).toBe(1);
  });

  it("close() drains everything still queued", async () => {
    const store = SqliteStore.open(dbPath);
    const recorder = new Recorder(store, silent, { flushIntervalMs: 60_000 });
    for (let i = 0; i < 500; i++) recorder.enqueue(record(`p${i}`));
    await recorder.close();
    expect(rows(dbPath, "select count(*) as n from responses")[0]!.n).toBe(500);
  });
});
