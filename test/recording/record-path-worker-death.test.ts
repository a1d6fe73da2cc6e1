/**
 * A record worker that dies while it holds a batch loses nothing: the
 * recorder keeps the batch, the sink starts a new worker, and the batch is
 * written by it (the exchanges' hooks run once, after the write). The
 * worker is stopped while it assembles the batch (JavaScript: a worker
 * stopped inside a SQLite call would take the process down with it).
 */
import fs from "node:fs";
import path from "node:path";
import type { Worker } from "node:worker_threads";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { chatCompletionRequestSchema } from "../../src/protocol/chat-request.js";
import { Recorder } from "../../src/recording/recorder.js";
import { WorkerSink } from "../../src/recording/record-sinks.js";
import type { ExchangeSummary } from "../../src/recording/record-writer.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { PendingExchange } from "../../src/recording/types.js";
import { newUlid } from "../../src/recording/ulid.js";
import { rows } from "../helpers/db.js";
import { tempDir } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

let dir: string;
let dbPath: string;
beforeEach(() => {
  dir = tempDir();
  dbPath = path.join(dir, "logs.db");
  SqliteStore.open(dbPath).close();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A streamed exchange of `chunks` chunk events (assembling many of them keeps the worker busy in JavaScript for a while). */
function pending(prompt: string, chunks: number): PendingExchange {
  const body = { model: "m", messages: [{ role: "user", content: prompt }] };
  const parsed = chatCompletionRequestSchema.parse(body);
  const events = Array.from({ length: chunks }, (_, i) =>
    JSON.stringify({
      id: "c",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [
        {
          index: 0,
          delta: { content: i === 0 ? `re: ${prompt}` : "" },
          finish_reason: i === chunks - 1 ? "stop" : null,
        },
      ],
    }),
  );
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
    upstreamModel: "m",
    requestBody: body,
    messages: parsed.messages,
    stream: true,
    httpStatus: 200,
    status: "ok",
    error: null,
    output: { kind: "stream", events },
    errorJson: null,
    errorClass: null,
  };
}

it("writes the batch a dying worker held through a new worker, and runs its hooks once", async () => {
  const sink = await WorkerSink.start(dbPath);
  const recorded: ExchangeSummary[] = [];
  const recorder = new Recorder(sink, pino({ level: "silent" }), {
    flushIntervalMs: 5,
    onRecorded: (summary) => recorded.push(summary),
  });
  const prompts = Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(2, "0")}`);
  for (const prompt of prompts) recorder.enqueue(pending(prompt, 5_000));
  // The batch is in the worker's hands (a batch held for ever is what `unresponsive` means): it dies with it.
  await until("the batch handed to the worker", () => recorder.health(Date.now() + 3_600_000).state === "unresponsive");
  await (sink as unknown as { worker: Worker }).worker.terminate();
  await until("every exchange written", () => recorder.writtenRecords === prompts.length, { timeoutMs: 60_000 });
  await recorder.close();
  expect(recorder.failedWrites).toBe(0);
  expect(rows(dbPath, "select prompt from responses order by id").map((r) => r.prompt)).toEqual(prompts);
  expect(recorded.map((summary) => summary.requestId)).toEqual(prompts.map((prompt) => `req-${prompt}`));
}, 90_000);
