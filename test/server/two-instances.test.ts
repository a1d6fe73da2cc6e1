/**
 * Issue 7's two-instance test: two proxies on one PostgreSQL schema and one
 * Redis prefix behave as one. A 10-rpm key shared across both admits
 * exactly 10 of 20 concurrent requests (the rest get 429 wherever they
 * land); one Idempotency-Key sent to both at once gives one upstream call
 * and one ledger row; 200 concurrent requests split across both are all
 * answered and recorded once, with one ledger row each. The figures are
 * printed for the session note.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chat, chatBody, openAIError } from "../helpers/exchanges.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";

const REDIS_URL = process.env.LLM_RELAY_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

let schema: TestSchema;
let prefix: string;
let fake: FakeUpstream;
let a: TestProxy;
let b: TestProxy;
const figures: string[] = [];

beforeAll(async () => {
  schema = await createTestSchema();
  prefix = `llm-relay-test:${randomBytes(6).toString("hex")}:`;
  fake = await startFakeUpstream({ kind: "ok" });
  const start = () =>
    startTestProxy(
      {
        databaseUrl: schema.url,
        redisUrl: REDIS_URL,
        defaultModel: null,
        models: { up: fakeDeployment(fake.baseUrl) },
      },
      { rateLimitKeyPrefix: prefix },
    );
  a = await start();
  b = await start();
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await fake?.close();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
  await schema?.drop();
  console.log(`two instances, one PostgreSQL, one Redis:\n${figures.join("\n")}`);
});

/** Waits until both proxies have written their records and booked their ledger rows. */
async function settle(): Promise<void> {
  for (const proxy of [a, b]) {
    await proxy.server.ctx.recorder.flush();
    await proxy.server.ctx.booking.drain();
  }
}

describe("two proxies on one PostgreSQL and one Redis", () => {
  it("share a 10-rpm limit: 10 of 20 concurrent requests are admitted, the rest get 429 on either instance", async () => {
    const key = await a.server.ctx.tenancy.keys.create({ tenant: "limited", rpm: 10 });
    const auth = { authorization: `Bearer ${key.plaintext}` };
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => chat(i % 2 ? b : a, chatBody("up"), auth)));
    const byInstance = [0, 1].map((side) => answers.filter((_, i) => i % 2 === side).map((r) => r.status));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(10);
    const refused = answers.filter((r) => r.status === 429);
    expect(refused).toHaveLength(10);
    for (const r of refused) {
      expect(openAIError(r).code).toBe("rate_limit_exceeded");
      expect(r.headers.get("x-ratelimit-limit-requests")).toBe("10");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    // The 21st, on either instance, is refused too.
    expect((await chat(a, chatBody("up"), auth)).status).toBe(429);
    expect((await chat(b, chatBody("up"), auth)).status).toBe(429);
    await settle();
    const ledger = await schema.rows<{ n: string }>("SELECT count(*) AS n FROM llm_relay_usage WHERE key_id = $1", [
      key.key.id,
    ]);
    expect(Number(ledger[0]!.n)).toBe(10);
    figures.push(
      `rpm 10 shared: instance A ${byInstance[0]!.join(" ")} | instance B ${byInstance[1]!.join(" ")} → ${answers.filter((r) => r.status === 200).length} admitted, ${refused.length} refused (429); 21st on A and on B: 429; ledger rows for the key: ${ledger[0]!.n}`,
    );
  });

  it("one Idempotency-Key sent to both at once: one upstream call, one ledger row", async () => {
    const key = await a.server.ctx.tenancy.keys.create({ tenant: "idem" });
    const headers = {
      authorization: `Bearer ${key.plaintext}`,
      "idempotency-key": `order-${randomBytes(4).toString("hex")}`,
    };
    const before = fake.requests.length;
    fake.behave({ kind: "ok", headerDelayMs: 300 });
    const [first, second] = await Promise.all([chat(a, chatBody("up"), headers), chat(b, chatBody("up"), headers)]);
    fake.behave({ kind: "ok" });
    expect(fake.requests.length - before).toBe(1);
    const statuses = [first.status, second.status].sort();
    expect(statuses[0]).toBe(200);
    expect([200, 409]).toContain(statuses[1]);
    // Once done, a retry on either instance is the replay of the same answer, still without an upstream call.
    const replayA = await chat(a, chatBody("up"), headers);
    const replayB = await chat(b, chatBody("up"), headers);
    const answered = first.status === 200 ? first : second;
    for (const replay of [replayA, replayB]) {
      expect(replay.status).toBe(200);
      expect(replay.headers.get("x-llm-relay-idempotent-replay")).toBe("true");
      expect(replay.text).toBe(answered.text);
    }
    expect(fake.requests.length - before).toBe(1);
    await settle();
    const ledger = await schema.rows<{ idempotency_key: string }>(
      "SELECT idempotency_key FROM llm_relay_usage WHERE key_id = $1",
      [key.key.id],
    );
    expect(ledger).toEqual([{ idempotency_key: `idempotency:idem:${headers["idempotency-key"]}` }]);
    figures.push(
      `Idempotency-Key to A and B at once: statuses ${first.status}/${second.status}, replays ${replayA.status}/${replayB.status}; upstream calls: ${fake.requests.length - before}; ledger rows: ${ledger.length}`,
    );
  });

  it("200 concurrent requests split across both: all answered, each recorded and booked once", async () => {
    const key = await a.server.ctx.tenancy.keys.create({ tenant: "load" });
    const auth = { authorization: `Bearer ${key.plaintext}` };
    const ids = Array.from({ length: 200 }, (_, i) => `load-${i}-${randomBytes(3).toString("hex")}`);
    const answers = await Promise.all(
      ids.map((id, i) =>
        chat(i % 2 ? b : a, chatBody("up", { messages: [{ role: "user", content: `question ${i}` }] }), {
          ...auth,
          "x-request-id": id,
        }),
      ),
    );
    expect(answers.every((r) => r.status === 200)).toBe(true);
    await settle();
    const recorded = await schema.rows<{ request_id: string }>(
      "SELECT request_id FROM llm_relay_exchanges WHERE key_id = $1 ORDER BY request_id",
      [key.key.id],
    );
    expect(recorded.map((r) => r.request_id)).toEqual([...ids].sort());
    const ledger = await schema.rows<{ n: string; tokens: string }>(
      "SELECT count(*) AS n, sum(tokens) AS tokens FROM llm_relay_usage WHERE key_id = $1",
      [key.key.id],
    );
    expect(Number(ledger[0]!.n)).toBe(200);
    const responses = await schema.rows<{ n: string }>(
      "SELECT count(*) AS n FROM responses r JOIN llm_relay_exchanges x ON x.response_id = r.id WHERE x.key_id = $1",
      [key.key.id],
    );
    expect(Number(responses[0]!.n)).toBe(200);
    figures.push(
      `200 concurrent (100 on A, 100 on B): 200 × 200 OK; llm_relay_exchanges rows: ${recorded.length}; responses rows: ${responses[0]!.n}; ledger rows: ${ledger[0]!.n} (${ledger[0]!.tokens} tokens)`,
    );
  });
});
