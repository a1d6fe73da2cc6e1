/**
 * One upstream answer the recorder cannot assemble (`{"choices":[null]}`
 * with status 200) costs only itself: among four concurrent exchanges of
 * one batch, the three good ones are recorded `ok` and billed (their rows
 * are in the usage ledger), the bad one is recorded as an `error`
 * (`upstream_invalid_response`) holding the upstream's raw text, and no
 * write is counted as failed.
 */
import OpenAI from "openai";
import { afterEach, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { send } from "../helpers/exchanges.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";

let proxy: TestProxy | undefined;
let upstream: FakeUpstream | undefined;
afterEach(async () => {
  await proxy?.close();
  await upstream?.close();
  proxy = upstream = undefined;
});

const BAD_BODY = '{"choices":[null]}';

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it("records the other exchanges of the batch ok and billed, and the unreadable one as an error with the raw text", async () => {
  upstream = await startFakeUpstream({ kind: "ok", text: "fine" });
  upstream.enqueue({ kind: "status", status: 200, body: BAD_BODY });
  // A long flush interval: the four exchanges go to the recorder's worker as one batch.
  proxy = await startTestProxy({ models: { up: fakeDeployment(upstream.baseUrl) } }, { recorder: { flushIntervalMs: 500 } });
  const p = proxy;
  const client = new OpenAI({ baseURL: p.baseURL, apiKey: "unused", maxRetries: 0 });

  const ids = ["bad-batch-1", "bad-batch-2", "bad-batch-3", "bad-batch-4"];
  const answers = await Promise.all(
    ids.map((id) => client.chat.completions.create({ model: "up", messages: [{ role: "user", content: `question ${id}` }] }, { headers: { "x-request-id": id } }).asResponse()),
  );
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
  const bodies = await Promise.all(answers.map((a) => a.text()));
  const badId = ids[bodies.indexOf(BAD_BODY)]!;
  expect(badId).toBeDefined();
  const goodIds = ids.filter((id) => id !== badId);

  type Row = { request_id: string; status: string; error: string | null; response: string };
  const recorded = () => rows<Row>(p.dbPath, "select x.request_id, x.status, x.error, r.response from llm_relay_exchanges x join responses r on r.id = x.response_id order by x.request_id");
  await until("4 recorded exchanges", () => recorded().length === 4);
  const byId = new Map(recorded().map((row) => [row.request_id, row]));
  for (const id of goodIds) expect(byId.get(id)).toMatchObject({ status: "ok", error: null, response: "fine" });
  const bad = byId.get(badId)!;
  expect(bad.status).toBe("error");
  expect(bad.error).toMatch(/^upstream_invalid_response: /);
  expect(bad.response).toBe(BAD_BODY);

  // Billed: the booking hook ran for the good exchanges of the batch.
  const ledgerKeys = () => rows<{ idempotency_key: string }>(p.dbPath, "select idempotency_key from llm_relay_usage").map((row) => row.idempotency_key);
  await until("ledger rows of the three good exchanges", () => goodIds.every((id) => ledgerKeys().includes(`request:default:${id}`)));

  const health = await send(`${p.url}/health`);
  expect(health.status).toBe(200);
  expect(health.json).toMatchObject({ status: "ok", recorder: { written: 4, failed_writes: 0 } });
});
