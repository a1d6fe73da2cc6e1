/**
 * Reading recorded responses back read-only, on our own file and on a
 * plain `llm` logs.db (no llm-relay table), which must stay untouched.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { readResponses } from "../../src/recording/sqlite/log-query.js";
import { Recorder } from "../../src/recording/recorder.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import { chatCompletionRequestSchema, samplingOptions } from "../../src/protocol/chat-request.js";
import { newUlid } from "../../src/recording/ulid.js";
import type { ExchangeRecord } from "../../src/recording/types.js";
import { tempDir } from "../helpers/proxy.js";

let dir: string;
let dbPath: string;
beforeEach(async () => {
  dir = tempDir();
  dbPath = path.join(dir, "logs.db");
  const recorder = new Recorder(SqliteStore.open(dbPath), pino({ level: "silent" }));
  for (const prompt of ["first", "second"]) {
    const body = { model: "m", messages: [{ role: "user", content: prompt }] };
    const parsed = chatCompletionRequestSchema.parse(body);
    const record: ExchangeRecord = {
      id: newUlid(),
      requestId: `req-${prompt}`,
      startedAt: Date.now(),
      durationMs: 3,
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
      responseText: prompt.toUpperCase(),
      toolCalls: [],
      finishReason: "stop",
      usage: { input: 7, output: 1, estimated: false },
      responseJson: null,
      httpStatus: 200,
      status: "ok",
      error: null,
    };
    recorder.enqueue(record);
  }
  await recorder.close();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it("lists our responses newest first with their exchange status", () => {
  const rows = readResponses(dbPath, { limit: 10 });
  expect(rows.map((r) => [r.prompt, r.response, r.status, r.inputTokens])).toEqual([
    ["second", "SECOND", "ok", 7],
    ["first", "FIRST", "ok", 7],
  ]);
});

it("reads a plain llm logs.db without adding tables or changing its journal mode", () => {
  const db = new Database(dbPath);
  db.exec("DROP TABLE llm_relay_exchanges; DROP TABLE llm_relay_schema");
  db.pragma("journal_mode = DELETE");
  db.close();
  const before = fs.readFileSync(dbPath);
  const rows = readResponses(dbPath, { limit: 1 });
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ prompt: "second", status: null, provider: null });
  expect(fs.readFileSync(dbPath).equals(before)).toBe(true);
  expect(fs.existsSync(`${dbPath}-wal`)).toBe(false);
});

it("fails clearly on a file that is not a database, and on a missing one", () => {
  const bogus = path.join(dir, "x.db");
  fs.writeFileSync(bogus, "not sqlite at all, just text that is long enough to be a header............");
  expect(() => readResponses(bogus, {})).toThrow(/not a database/);
  expect(() => readResponses(path.join(dir, "missing.db"), {})).toThrow();
  expect(fs.existsSync(path.join(dir, "missing.db"))).toBe(false);
});
