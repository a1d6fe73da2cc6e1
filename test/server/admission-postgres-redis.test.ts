/**
 * Admission on PostgreSQL and Redis (the servers `env` describes): two
 * proxies on one throw-away schema and one Redis key prefix share an rpm
 * limit (the 4th request of a 3-rpm key gets 429 wherever it lands), the
 * tenant and key go into PostgreSQL's llm_relay_exchanges and its ledger,
 * and `/internal/health` reports both stores. The Redis keys and the
 * schema are removed afterwards.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { healthEnvelopeSchema } from "../../src/server/envelope-schemas.js";
import { chat, chatBody, openAIError, send } from "../helpers/exchanges.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

const REDIS_URL = process.env.LLM_RELAY_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

let schema: TestSchema;
let prefix: string;
let proxies: TestProxy[] = [];
beforeEach(async () => {
  schema = await createTestSchema();
  prefix = `llm-relay-test:${randomBytes(6).toString("hex")}:`;
});
afterEach(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  proxies = [];
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
  await schema.drop();
});

async function start(): Promise<TestProxy> {
  const proxy = await startTestProxy({ databaseUrl: schema.url, redisUrl: REDIS_URL }, { rateLimitKeyPrefix: prefix });
  proxies.push(proxy);
  return proxy;
}

describe("two proxies on one PostgreSQL and one Redis", () => {
  it("share a key's rpm, and record tenant and key in PostgreSQL", async () => {
    const [a, b] = [await start(), await start()];
    const key = await a.server.ctx.tenancy.keys.create({ tenant: "acme", rpm: 3 });
    const auth = { authorization: `Bearer ${key.plaintext}` };
    const statuses: number[] = [];
    for (const [i, proxy] of [a, b, a, b].entries())
      statuses.push((await chat(proxy, chatBody("echo"), { ...auth, "x-request-id": `req-shared-${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await chat(a, chatBody("echo"), auth);
    expect(openAIError(refused).code).toBe("rate_limit_exceeded");
    expect(refused.headers.get("x-ratelimit-limit-requests")).toBe("3");
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      expect((await redis.keys(`${prefix}*`)).length).toBeGreaterThan(0);
    } finally {
      await redis.quit();
    }

    for (const proxy of [a, b]) {
      await proxy.server.ctx.recorder.flush();
      await proxy.server.ctx.booking.drain();
    }
    expect(
      await schema.rows("SELECT request_id, tenant_id, key_id FROM llm_relay_exchanges ORDER BY request_id"),
    ).toEqual([0, 1, 2].map((i) => ({ request_id: `req-shared-${i}`, tenant_id: "acme", key_id: key.key.id })));
    expect(
      await schema.rows(
        "SELECT idempotency_key, tenant_id, key_id, token_type, operation FROM llm_relay_usage ORDER BY idempotency_key",
      ),
    ).toEqual(
      [0, 1, 2].map((i) => ({
        idempotency_key: `request:acme:req-shared-${i}`,
        tenant_id: "acme",
        key_id: key.key.id,
        token_type: "llm",
        operation: "query",
      })),
    );

    const health = await send(`${b.url}/internal/health`, { headers: auth });
    expect(health.status).toBe(200);
    expect(healthEnvelopeSchema.parse(health.json).data).toMatchObject({
      store: { engine: "postgresql", writable: true },
      tenancy: { engine: "postgres", ok: true },
      redis: { configured: true, ok: true, error: null },
    });
  });
});
