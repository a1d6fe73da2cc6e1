/**
 * A record that kills the record writer every time it is in a batch
 * (as a worker that dies on it would) costs only itself: after a few
 * tries the batch is written one record at a time, the others are written,
 * the poison one is given up and counted, and every exchange's hook runs.
 */
import fs from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { chatCompletionRequestSchema, samplingOptions } from "../../src/protocol/chat-request.js";
import { Recorder } from "../../src/recording/recorder.js";
import { InlineSink, RecordWorkerExited, type RecordSink } from "../../src/recording/record-sinks.js";
import type { BatchResult } from "../../src/recording/record-writer.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { ExchangeRecord, PendingExchange } from "../../src/recording/types.js";
import { newUlid } from "../../src/recording/ulid.js";
import { rows } from "../helpers/db.js";
import { tempDir } from "../helpers/proxy.js";

let dir: string;
let dbPath: string;
beforeEach(() => {
  dir = tempDir();
  dbPath = path.join(dir, "logs.db");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function record(prompt: string): ExchangeRecord {
  const body = { model: "m", messages: [{ role: "user", content: prompt }] };
  const parsed = chatCompletionRequestSchema.parse(body);
  return {
    id: newUlid(),
    requestId: `req-${prompt}`,
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

/** The real writer on a real file, whose "worker" dies whenever the batch holds the poison record. */
class DyingOnPoison implements RecordSink {
  tries = 0;
  constructor(private readonly inner: InlineSink) {}
  write(batch: readonly (PendingExchange | ExchangeRecord)[]): Promise<BatchResult> {
    if (batch.some((exchange) => exchange.requestId === "req-poison")) {
      this.tries++;
      return Promise.reject(new RecordWorkerExited("record worker exited with code 1", { heldBatch: true }));
    }
    return this.inner.write(batch);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

it("writes the rest of a batch whose writer dies on one record, gives that one up, and runs every hook", async () => {
  const sink = new DyingOnPoison(new InlineSink(SqliteStore.open(dbPath)));
  const hooked: string[] = [];
  const recorder = new Recorder(sink, pino({ level: "silent" }), {
    onRecorded: (summary) => hooked.push(summary.requestId),
  });
  for (const prompt of ["one", "poison", "two", "three"]) recorder.enqueue(record(prompt));
  await recorder.close();
  expect(recorder.failedWrites).toBe(1);
  expect(recorder.writtenRecords).toBe(3);
  expect(
    rows<{ prompt: string }>(dbPath, "select prompt from responses order by rowid").map((row) => row.prompt),
  ).toEqual(["one", "two", "three"]);
  expect(hooked.sort()).toEqual(["req-one", "req-poison", "req-three", "req-two"]);
  expect(recorder.health()).toMatchObject({ status: "ok", failedWrites: 1, kept: 0 });
});
