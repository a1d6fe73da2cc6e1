/**
 * The recorder's worker thread: batches written through it land in the
 * real SQLite file, and a worker that dies is replaced on the next batch
 * (the batch it held is reported as failed, later ones are written).
 */
import fs from "node:fs";
import path from "node:path";
import type { Worker } from "node:worker_threads";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { chatCompletionRequestSchema } from "../../src/protocol/chat-request.js";
import { Recorder } from "../../src/recording/recorder.js";
import { WorkerSink } from "../../src/recording/record-sinks.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { PendingExchange } from "../../src/recording/types.js";
import { newUlid } from "../../src/recording/ulid.js";
import { rows } from "../helpers/db.js";
import { tempDir } from "../helpers/proxy.js";

let dir: string;
let dbPath: string;
beforeEach(() => {
  dir = tempDir();
  dbPath = path.join(dir, "logs.db");
  SqliteStore.open(dbPath).close(); // the server's main connection creates the schema first
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function pending(prompt: string): PendingExchange {
  const body = { model: "m", messages: [{ role: "user", content: prompt }] };
  const parsed = chatCompletionRequestSchema.parse(body);
  const completion = {
    id: "c",
    object: "chat.completion",
    created: 1,
    model: "up-model",
    choices: [{ index: 0, message: { role: "assistant", content: `re: ${prompt}` }, finish_reason: "stop" }],
    usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 },
  };
  return {
    id: newUlid(),
    requestId: `req-${prompt}`,
    startedAt: Date.now(),
    durationMs: 2,
    ttftMs: null,
    overheadMs: 0.1,
    requestedModel: "m",
    provider: "openai-compatible",
    deployment: "m",
    upstreamModel: "up-model",
    requestBody: body,
    messages: parsed.messages,
    stream: false,
    httpStatus: 200,
    status: "ok",
    error: null,
    output: { kind: "completion", body: JSON.stringify(completion) },
    errorJson: null,
    errorClass: null,
  };
}

it("assembles and writes batches in its own thread, and survives the death of that thread", async () => {
  const sink = await WorkerSink.start(dbPath);
  const recorder = new Recorder(sink, pino({ level: "silent" }));
  recorder.enqueue(pending("one"));
  await recorder.flush();
  expect(rows(dbPath, "select prompt, response, resolved_model, input_tokens from responses")).toEqual([
    { prompt: "one", response: "re: one", resolved_model: "up-model", input_tokens: 4 },
  ]);

  // The thread dies between batches (as a crash would); the next batch starts a new one.
  await (sink as unknown as { worker: Worker }).worker.terminate();
  recorder.enqueue(pending("two"));
  await recorder.flush();
  await recorder.close();
  expect(recorder.failedWrites).toBe(0);
  expect(rows(dbPath, "select prompt from responses order by id").map((r) => r.prompt)).toEqual(["one", "two"]);
});
