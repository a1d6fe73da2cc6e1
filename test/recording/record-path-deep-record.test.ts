/**
 * A record that cannot cross to the record worker (JSON nested 5,000 deep
 * in an unknown field of the body: structured clone throws RangeError)
 * must not switch recording off: it is written in its reduced form, the
 * exchanges after it are recorded as usual, and /health stays ok.
 */
import fs from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { chatCompletionRequestSchema } from "../../src/protocol/chat-request.js";
import { Recorder } from "../../src/recording/recorder.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { PendingExchange } from "../../src/recording/types.js";
import { newUlid } from "../../src/recording/ulid.js";
import { rows } from "../helpers/db.js";
import { chat, chatBody, send } from "../helpers/exchanges.js";
import { startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

let proxy: TestProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

/** `{"a":{"a":…}}`, `depth` levels (built without recursion, as JSON.parse builds it). */
function nested(depth: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let node = root;
  for (let i = 0; i < depth; i++) {
    const child: Record<string, unknown> = {};
    node.a = child;
    node = child;
  }
  return root;
}

/** An answered exchange whose body carries `extra` (about 10 KB of nesting, as a client could send it). */
function deepExchange(requestId: string): PendingExchange {
  const body = { model: "echo", messages: [{ role: "user", content: "deep" }], extra: nested(5_000) };
  const parsed = chatCompletionRequestSchema.parse(body);
  const completion = {
    id: "c",
    object: "chat.completion",
    created: 1,
    model: "echo",
    choices: [{ index: 0, message: { role: "assistant", content: "re: deep" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  };
  return {
    id: newUlid(),
    requestId,
    startedAt: Date.now(),
    durationMs: 2,
    ttftMs: null,
    overheadMs: 0.1,
    requestedModel: "echo",
    provider: "echo",
    deployment: "echo",
    upstreamModel: "echo",
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

it("writes a record nested 5,000 deep in reduced form through the worker, and keeps recording the exchanges after it", async () => {
  proxy = await startTestProxy({}, { recorder: { flushIntervalMs: 5 } });
  const p = proxy;
  p.server.ctx.recorder.enqueue(deepExchange("deep-1"));
  await until("the deep record's batch to be handed over", () => p.server.ctx.recorder.queued === 0);

  for (const id of ["after-1", "after-2", "after-3"])
    expect((await chat(p, chatBody("echo"), { "x-request-id": id })).status).toBe(200);
  const recorded = () =>
    rows<{ request_id: string; status: string; prompt_json: string; response: string }>(
      p.dbPath,
      "select x.request_id, x.status, r.prompt_json, r.response from llm_relay_exchanges x join responses r on r.id = x.response_id order by x.request_id",
    );
  await until("4 recorded exchanges", () => recorded().length === 4);

  const all = recorded();
  expect(all.map((row) => [row.request_id, row.status])).toEqual([
    ["after-1", "ok"],
    ["after-2", "ok"],
    ["after-3", "ok"],
    ["deep-1", "ok"],
  ]);
  const deep = all.find((row) => row.request_id === "deep-1")!;
  expect(deep.response).toBe("re: deep");
  const prompt = JSON.parse(deep.prompt_json) as {
    model: string;
    llm_relay_reduced: { reason: string; body: string; truncated: boolean };
  };
  expect(prompt.model).toBe("echo");
  expect(prompt.llm_relay_reduced.reason).toMatch(/cannot cross to the record worker: RangeError/);
  expect(prompt.llm_relay_reduced.body).toMatch(/^\{"model":"echo","messages":\[.*"extra":\{"a":\{"a":/);
  expect(prompt.llm_relay_reduced.body).toContain("[nested too deep]");

  const health = await send(`${p.url}/health`);
  expect(health.status).toBe(200);
  expect(health.json).toMatchObject({ status: "ok", recorder: { state: "ok", written: 4, failed_writes: 0, kept: 0 } });
});

it("writes such a record in reduced form when the store itself cannot take it (written in this thread), and the rest of its batch as is", async () => {
  const dir = tempDir();
  try {
    const dbPath = path.join(dir, "logs.db");
    const recorder = new Recorder(SqliteStore.open(dbPath), pino({ level: "silent" }));
    const before = deepExchange("inline-before");
    before.requestBody = { model: "echo", messages: [{ role: "user", content: "deep" }] };
    recorder.enqueue(before);
    recorder.enqueue(deepExchange("inline-deep"));
    await recorder.close();
    expect(recorder.failedWrites).toBe(0);
    const recorded = rows<{ request_id: string; prompt_json: string }>(
      dbPath,
      "select x.request_id, r.prompt_json from llm_relay_exchanges x join responses r on r.id = x.response_id order by x.request_id",
    );
    expect(recorded.map((row) => row.request_id)).toEqual(["inline-before", "inline-deep"]);
    expect(JSON.parse(recorded[0]!.prompt_json)).toEqual({
      model: "echo",
      messages: [{ role: "user", content: "deep" }],
    });
    expect(
      (JSON.parse(recorded[1]!.prompt_json) as { llm_relay_reduced: { body: string } }).llm_relay_reduced.body,
    ).toContain("[nested too deep]");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
