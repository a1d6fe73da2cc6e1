/**
 * One unreadable upstream answer (`{"choices":[null]}` with status 200) costs
 * only itself: among four concurrent exchanges of one batch, the three good
 * ones are answered, recorded `ok` and billed (their rows are in the usage
 * ledger); the bad one is answered 502 `upstream_invalid_response` and
 * recorded as an `error` holding the upstream's raw text; no write is
 * counted as failed. (On the old code the client got 200 and the whole
 * batch was lost: the recorder's assembly threw on it.)
 */
import OpenAI from "openai";
import { afterEach, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { send } from "../helpers/exchanges.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

let proxy: TestProxy | undefined;
let upstream: FakeUpstream | undefined;
afterEach(async () => {
  await proxy?.close();
  await upstream?.close();
  proxy = upstream = undefined;
});

const BAD_BODY = '{"choices":[null]}';

it("records the other exchanges of the batch ok and billed, and the unreadable one as an error with the raw text", async () => {
  upstream = await startFakeUpstream({ kind: "ok", text: "fine" });
  upstream.enqueue({ kind: "status", status: 200, body: BAD_BODY });
  // A long flush interval: the four exchanges go to the recorder's worker as one batch.
  proxy = await startTestProxy(
    { models: { up: fakeDeployment(upstream.baseUrl) } },
    { recorder: { flushIntervalMs: 500 } },
  );
  const p = proxy;
  const client = new OpenAI({ baseURL: p.baseURL, apiKey: "unused", maxRetries: 0 });

  const ids = ["bad-batch-1", "bad-batch-2", "bad-batch-3", "bad-batch-4"];
  const answers = await Promise.all(
    ids.map((id) =>
      client.chat.completions
        .create(
          { model: "up", messages: [{ role: "user", content: `question ${id}` }] },
          { headers: { "x-request-id": id } },
        )
        .then(
          (completion) => ({ id, ok: true as const, text: completion.choices[0]?.message.content }),
          (error: unknown) => ({ id, ok: false as const, error }),
        ),
    ),
  );
  const failed = answers.filter((a) => !a.ok);
  expect(failed).toHaveLength(1);
  const badError = (failed[0] as { error: unknown }).error;
  expect(badError).toBeInstanceOf(OpenAI.APIError);
  expect((badError as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  expect((badError as InstanceType<typeof OpenAI.APIError>).code).toBe("upstream_invalid_response");
  for (const a of answers.filter((a) => a.ok)) expect(a).toMatchObject({ text: "fine" });
  const badId = failed[0]!.id;
  const goodIds = ids.filter((id) => id !== badId);

  type Row = { request_id: string; status: string; error: string | null; response: string; response_json: string };
  const recorded = () =>
    rows<Row>(
      p.dbPath,
      "select x.request_id, x.status, x.error, r.response, r.response_json from llm_relay_exchanges x join responses r on r.id = x.response_id order by x.request_id",
    );
  await until("4 recorded exchanges", () => recorded().length === 4);
  const byId = new Map(recorded().map((row) => [row.request_id, row]));
  for (const id of goodIds) expect(byId.get(id)).toMatchObject({ status: "ok", error: null, response: "fine" });
  const bad = byId.get(badId)!;
  expect(bad.status).toBe("error");
  expect(bad.error).toMatch(/not a chat\.completion/);
  expect(JSON.parse(bad.response_json)).toMatchObject({
    error: { code: "upstream_invalid_response" },
    upstream_body: BAD_BODY,
  });

  // Billed: the booking hook ran for the good exchanges of the batch.
  const ledgerKeys = () =>
    rows<{ idempotency_key: string }>(p.dbPath, "select idempotency_key from llm_relay_usage").map(
      (row) => row.idempotency_key,
    );
  await until("ledger rows of the three good exchanges", () =>
    goodIds.every((id) => ledgerKeys().includes(`request:default:${id}`)),
  );

  const health = await send(`${p.url}/health`);
  expect(health.status).toBe(200);
  expect(health.json).toMatchObject({ status: "ok", recorder: { written: 4, failed_writes: 0 } });
});
