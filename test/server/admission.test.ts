/**
 * Admission of `/v1` requests on a real proxy (SQLite logs.db, loopback
 * HTTP, the openai SDK where it fits): without keys everything answers as
 * before for tenant `default`; once a key exists every request needs one
 * (401 missing/forged/unknown, 401 revoked at once, 403 for a model outside
 * the key's list); the tenant and key are recorded with the exchange and in
 * the usage ledger (one row per request id, booked under
 * `request:<tenant>:<id>`; the client's `Idempotency-Key` as the ledger key
 * `idempotency:<tenant>:<key>`; `x-llm-relay-operation`); an rpm limit
 * answers 429 with OpenAI's headers (streams included); a budget exhausted mid-run
 * answers 429 `budget_exceeded` before any upstream call, and every billed
 * answer carries the remaining budget.
 */
import fs from "node:fs";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { SqliteTenancyStore } from "../../src/tenancy/sqlite/sqlite-tenancy-store.js";
import type { CreatedApiKey, NewApiKey } from "../../src/tenancy/types.js";
import { rows } from "../helpers/db.js";
import { chat, chatBody, openAIError, send, type Answer } from "../helpers/exchanges.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { readSse } from "../helpers/sse.js";
import { startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";
import { match } from "../helpers/matchers.js";

interface LedgerRow {
  tenant_id: string;
  key_id: string | null;
  model: string;
  provider: string | null;
  token_type: string;
  operation: string;
  input_tokens: number;
  output_tokens: number;
  tokens: number;
  cost_usd: number | null;
  estimated: number;
  idempotency_key: string;
  metadata: string;
}

/** Waits until the recorder wrote everything and the ledger booked it. */
async function settled(proxy: TestProxy): Promise<void> {
  await proxy.server.ctx.recorder.flush();
  await proxy.server.ctx.booking.drain();
}

async function ledger(proxy: TestProxy): Promise<LedgerRow[]> {
  await settled(proxy);
  return rows<LedgerRow>(proxy.dbPath, `SELECT * FROM llm_relay_usage ORDER BY created_at, id`);
}

async function exchangeOwner(
  proxy: TestProxy,
  requestId: string,
): Promise<{ tenant_id: string | null; key_id: string | null }[]> {
  await settled(proxy);
  return rows(proxy.dbPath, `SELECT tenant_id, key_id FROM llm_relay_exchanges WHERE request_id = ?`, requestId);
}

const bearer = (key: CreatedApiKey | string) => ({
  authorization: `Bearer ${typeof key === "string" ? key : key.plaintext}`,
});
const createKey = (proxy: TestProxy, input: NewApiKey) => proxy.server.ctx.tenancy.keys.create(input);

let proxy: TestProxy | null = null;
afterEach(async () => {
  await proxy?.close();
  proxy = null;
});

describe("without any key", () => {
  it("answers as before for tenant default, records it, and books one ledger row per request id", async () => {
    proxy = await startTestProxy();
    const answer = await chat(proxy, chatBody("echo"), { "x-request-id": "req-open-1" });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-llm-relay-budget-remaining-usd")).toBeNull();
    expect(answer.headers.get("x-ratelimit-limit-requests")).toBeNull();
    expect(await exchangeOwner(proxy, "req-open-1")).toEqual([{ tenant_id: "default", key_id: null }]);
    const [row, ...others] = await ledger(proxy);
    expect(others).toEqual([]);
    const usage = (answer.json as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    expect(row).toMatchObject({
      tenant_id: "default",
      key_id: null,
      model: "echo",
      provider: "echo",
      token_type: "llm",
      operation: "query",
      input_tokens: usage.prompt_tokens,
      output_tokens: usage.completion_tokens,
      tokens: usage.prompt_tokens + usage.completion_tokens,
      cost_usd: 0,
      idempotency_key: "request:default:req-open-1",
    });
    expect(JSON.parse(row!.metadata)).toMatchObject({ request_id: "req-open-1", status: "ok" });
  });

  it("takes the operation from x-llm-relay-operation and refuses an unknown one with 400", async () => {
    proxy = await startTestProxy();
    expect(
      (await chat(proxy, chatBody("echo"), { "x-request-id": "req-batch", "x-llm-relay-operation": "batch" })).status,
    ).toBe(200);
    expect(
      (await chat(proxy, chatBody("echo"), { "x-request-id": "req-internal", "x-llm-relay-operation": "internal" }))
        .status,
    ).toBe(200);
    const bad = await chat(proxy, chatBody("echo"), {
      "x-request-id": "req-bad-op",
      "x-llm-relay-operation": "training",
    });
    expect(bad.status).toBe(400);
    expect(openAIError(bad)).toMatchObject({ type: "invalid_request_error", code: "invalid_operation" });
    expect(openAIError(bad).message).toContain("query, batch, internal");
    const booked = await ledger(proxy);
    expect(booked.map((r) => [r.idempotency_key, r.operation])).toEqual([
      ["request:default:req-batch", "batch"],
      ["request:default:req-internal", "internal"],
    ]);
    expect(await exchangeOwner(proxy, "req-bad-op")).toEqual([]);
  });

  it("uses the client's Idempotency-Key as the ledger key, scoped to the tenant", async () => {
    proxy = await startTestProxy();
    expect((await chat(proxy, chatBody("echo"), { "idempotency-key": "job-77" })).status).toBe(200);
    const booked = await ledger(proxy);
    expect(booked.map((r) => r.idempotency_key)).toEqual(["idempotency:default:job-77"]);
  });

  it("books a client's reused x-request-id once per exchange, never dropping the second one", async () => {
    proxy = await startTestProxy();
    expect((await chat(proxy, chatBody("echo"), { "x-request-id": "same-id" })).status).toBe(200);
    await settled(proxy);
    expect((await chat(proxy, chatBody("echo"), { "x-request-id": "same-id" })).status).toBe(200);
    const booked = await ledger(proxy);
    expect(booked).toHaveLength(2);
    expect(booked[0]!.idempotency_key).toBe("request:default:same-id");
    expect(booked[1]!.idempotency_key).toMatch(/^request:default:same-id\/[0-9a-z]{26}$/);
  });

  it("needs keys once another process created one (seen within about a second)", async () => {
    proxy = await startTestProxy();
    expect((await chat(proxy, chatBody("echo"))).status).toBe(200);
    const other = SqliteTenancyStore.open(proxy.dbPath);
    let created: CreatedApiKey;
    try {
      created = await other.keys.create({ tenant: "cli-made" });
    } finally {
      await other.close();
    }
    let answer: Answer | undefined;
    await until(
      "a request without a key refused",
      async () => (answer = await chat(proxy!, chatBody("echo"))).status !== 200,
      { everyMs: 100 },
    );
    expect(answer!.status).toBe(401);
    expect((await chat(proxy, chatBody("echo"), bearer(created))).status).toBe(200);
  });
});

describe("with keys", () => {
  it("refuses missing, forged and unknown keys (401), a model outside the key's list (403), and serves a good key", async () => {
    proxy = await startTestProxy();
    const key = await createKey(proxy, { tenant: "acme", models: ["echo"] });
    const missing = await chat(proxy, chatBody("echo"));
    expect(missing.status).toBe(401);
    expect(openAIError(missing)).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key" });
    expect(openAIError(missing).message).toContain("Authorization");
    // A key of the right shape that was never issued, one with a forged tail, and not a key at all.
    const forged = `${key.plaintext.slice(0, -4)}${key.plaintext.endsWith("AAAA") ? "BBBB" : "AAAA"}`;
    for (const candidate of ["lr-0000000000000000000000000000000000000000", forged, "sk-not-ours"]) {
      const refused = await chat(proxy, chatBody("echo"), bearer(candidate));
      expect(refused.status, candidate).toBe(401);
      expect(openAIError(refused).code).toBe("invalid_api_key");
      expect(openAIError(refused).message).not.toContain(candidate);
    }
    const wrongModel = await chat(proxy, chatBody("gpt-4o"), bearer(key));
    expect(wrongModel.status).toBe(403);
    expect(openAIError(wrongModel)).toMatchObject({
      type: "permission_error",
      code: "model_not_allowed",
      param: "model",
    });
    // /v1/models needs a key too.
    expect((await send(`${proxy.baseURL}/models`)).status).toBe(401);
    expect((await send(`${proxy.baseURL}/models`, { headers: bearer(key) })).status).toBe(200);

    const client = new OpenAI({ baseURL: proxy.baseURL, apiKey: key.plaintext, maxRetries: 0 });
    const completion = await client.chat.completions.create(
      { model: "echo", messages: [{ role: "user", content: "hello acme" }] },
      { headers: { "x-request-id": "req-acme" } },
    );
    expect(completion.choices[0]!.message.content).toBe("hello acme");
    expect(await exchangeOwner(proxy, "req-acme")).toEqual([{ tenant_id: "acme", key_id: key.key.id }]);
    const booked = await ledger(proxy);
    expect(booked.map((r) => [r.tenant_id, r.key_id, r.idempotency_key])).toEqual([
      ["acme", key.key.id, "request:acme:req-acme"],
    ]);
  });

  it("refuses a revoked key at once", async () => {
    proxy = await startTestProxy();
    const key = await createKey(proxy, { tenant: "acme" });
    expect((await chat(proxy, chatBody("echo"), bearer(key))).status).toBe(200);
    // Revoked through another connection, as `llm-relay keys revoke` does.
    const other = SqliteTenancyStore.open(proxy.dbPath);
    try {
      await other.keys.revoke(key.key.id);
    } finally {
      await other.close();
    }
    const refused = await chat(proxy, chatBody("echo"), bearer(key));
    expect(refused.status).toBe(401);
    expect(openAIError(refused).code).toBe("invalid_api_key");
    expect(openAIError(refused).message).toMatch(/revoked/);
  });

  it("answers 429 with OpenAI's headers over the key's rpm, on JSON and streamed answers", async () => {
    proxy = await startTestProxy();
    const key = await createKey(proxy, { tenant: "acme", rpm: 2, tpm: 100_000 });
    const first = await chat(proxy, chatBody("echo", { max_tokens: 50 }), bearer(key));
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(first.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    expect(first.headers.get("x-ratelimit-limit-tokens")).toBe("100000");
    expect(Number(first.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThanOrEqual(100_000 - 50);

    const streamed = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(key) },
      body: JSON.stringify(chatBody("echo", { stream: true })),
    });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get("content-type")).toMatch(/text\/event-stream/);
    expect(streamed.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect((await readSse(streamed)).at(-1)).toBe("[DONE]");

    const refused = await chat(proxy, chatBody("echo"), bearer(key));
    expect(refused.status).toBe(429);
    expect(openAIError(refused)).toMatchObject({ type: "requests", code: "rate_limit_exceeded" });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    // Another key has its own count.
    const other = await createKey(proxy, { tenant: "acme", rpm: 2 });
    expect((await chat(proxy, chatBody("echo"), bearer(other))).status).toBe(200);
  });

  it("gives back the tokens reserved for a request that never becomes an exchange: idempotent replays, a reused key's 422, an invalid body", async () => {
    proxy = await startTestProxy();
    // Each request reserves its prompt plus max_tokens (over 600) against a tpm of 1000: two such reservations cannot coexist.
    const key = await createKey(proxy, { tenant: "acme", tpm: 1000 });
    const body = chatBody("echo", { max_tokens: 600 });
    const headers = { ...bearer(key), "idempotency-key": "job-1" };
    expect((await chat(proxy, body, headers)).status).toBe(200);
    await settled(proxy);
    for (let i = 0; i < 3; i++) {
      const replayed = await chat(proxy, body, headers);
      expect(replayed.status).toBe(200);
      expect(replayed.headers.get("x-llm-relay-idempotent-replay")).toBe("true");
    }
    // The key reused for another request is refused (422) after admission: its reservation is given back too.
    expect((await chat(proxy, chatBody("echo", { max_tokens: 601 }), headers)).status).toBe(422);
    // So is the reservation of a body that fails validation (400).
    expect((await chat(proxy, { model: "echo", messages: "nope", max_tokens: 600 }, bearer(key))).status).toBe(400);
    // Only the first exchange's actual tokens are counted, so a new request of the same size is admitted.
    const fresh = await chat(proxy, body, { ...bearer(key), "idempotency-key": "job-2" });
    expect(fresh.status).toBe(200);
    expect(Number(fresh.headers.get("x-ratelimit-remaining-tokens"))).toBeGreaterThan(1000 - 600 - 2 * 100);
  });
});

describe("budgets", () => {
  const MODEL = "llama-3.1-8b-instant";
  let fake: FakeUpstream;
  let cwd: string;
  beforeAll(async () => {
    fake = await startFakeUpstream();
    cwd = tempDir("llm-relay-budget-");
  });
  afterAll(async () => {
    await fake?.close();
    if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
  });

  it("stops a key over its budget with 429 budget_exceeded before any upstream call, and reports what is left", async () => {
    fs.writeFileSync(path.join(cwd, "llm-relay.yaml"), `presets:\n  groq:\n    base_url: ${fake.baseUrl}\n`);
    proxy = await startTestProxy(
      { models: loadConfig({ cwd, env: {} }).models },
      { env: { GROQ_API_KEY: "gsk-test" } },
    );
    const client = (key: CreatedApiKey) =>
      new OpenAI({ baseURL: proxy!.baseURL, apiKey: key.plaintext, maxRetries: 0 });

    // Learn the cost of one exchange from a key without a budget.
    const probe = await createKey(proxy, { tenant: "probe" });
    await client(probe).chat.completions.create({
      model: `groq/${MODEL}`,
      messages: [{ role: "user", content: "price me" }],
    });
    const [probeRow] = await ledger(proxy);
    const cost = probeRow!.cost_usd!;
    expect(cost).toBeGreaterThan(0);

    // Room for one and a half exchanges in 30 days.
    const key = await createKey(proxy, { tenant: "acme", budgetUsd: cost * 1.5, budgetPeriodMs: 30 * 86_400_000 });
    const first = await client(key)
      .chat.completions.create({ model: `groq/${MODEL}`, messages: [{ role: "user", content: "price me" }] })
      .withResponse();
    expect(Number(first.response.headers.get("x-llm-relay-budget-remaining-usd"))).toBeCloseTo(cost * 1.5, 6);
    await settled(proxy);

    const streamed = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(key) },
      body: JSON.stringify({ model: `groq/${MODEL}`, stream: true, messages: [{ role: "user", content: "price me" }] }),
    });
    expect(streamed.status).toBe(200);
    expect(Number(streamed.headers.get("x-llm-relay-budget-remaining-usd"))).toBeCloseTo(cost * 0.5, 6);
    expect((await readSse(streamed)).at(-1)).toBe("[DONE]");
    await settled(proxy);

    const calls = fake.requests.length;
    const refused = await chat(
      proxy,
      { model: `groq/${MODEL}`, messages: [{ role: "user", content: "one more" }] },
      bearer(key),
    );
    expect(refused.status).toBe(429);
    expect(openAIError(refused)).toMatchObject({ type: "insufficient_quota", code: "budget_exceeded" });
    expect(refused.headers.get("x-llm-relay-budget-remaining-usd")).toBe("0");
    expect(fake.requests.length).toBe(calls);
    // The key's spend is exactly its two exchanges; the probe key is unaffected.
    const booked = (await ledger(proxy)).filter((r) => r.key_id === key.key.id);
    expect(booked).toHaveLength(2);
    expect(booked.reduce((sum, r) => sum + r.cost_usd!, 0)).toBeCloseTo(cost * 2, 12);
    expect(
      (
        await chat(
          proxy,
          { model: `groq/${MODEL}`, messages: [{ role: "user", content: "still fine" }] },
          bearer(probe),
        )
      ).status,
    ).toBe(200);
  });

  it("stops every key of a tenant over the tenant's budget (tenants: in the config), other tenants unaffected", async () => {
    fs.writeFileSync(path.join(cwd, "llm-relay.yaml"), `presets:\n  groq:\n    base_url: ${fake.baseUrl}\n`);
    const base = loadConfig({ cwd, env: {} });
    // Price one exchange first, on a proxy without tenant budgets.
    proxy = await startTestProxy({ models: base.models }, { env: { GROQ_API_KEY: "gsk-test" } });
    const probe = await createKey(proxy, { tenant: "probe" });
    await chat(proxy, { model: `groq/${MODEL}`, messages: [{ role: "user", content: "price me" }] }, bearer(probe));
    await settled(proxy);
    const cost = (await ledger(proxy))[0]!.cost_usd!;
    await proxy.close();

    proxy = await startTestProxy(
      { models: base.models, tenantBudgets: { team: { budgetUsd: cost * 1.5, periodMs: 86_400_000 } } },
      { env: { GROQ_API_KEY: "gsk-test" } },
    );
    const [one, two, other] = [
      await createKey(proxy, { tenant: "team" }),
      await createKey(proxy, { tenant: "team" }),
      await createKey(proxy, { tenant: "solo" }),
    ];
    const body = { model: `groq/${MODEL}`, messages: [{ role: "user", content: "price me" }] };
    const first = await chat(proxy, body, bearer(one));
    expect(first.status).toBe(200);
    expect(Number(first.headers.get("x-llm-relay-budget-remaining-usd"))).toBeCloseTo(cost * 1.5, 6);
    await settled(proxy);
    const second = await chat(proxy, body, bearer(two));
    expect(second.status).toBe(200);
    expect(Number(second.headers.get("x-llm-relay-budget-remaining-usd"))).toBeCloseTo(cost * 0.5, 6);
    await settled(proxy);

    const calls = fake.requests.length;
    for (const key of [one, two]) {
      const refused = await chat(proxy, body, bearer(key));
      expect(refused.status).toBe(429);
      expect(openAIError(refused)).toMatchObject({
        code: "budget_exceeded",
        message: match.stringContaining("tenant 'team'"),
      });
    }
    expect(fake.requests.length).toBe(calls);
    const fine = await chat(proxy, body, bearer(other));
    expect(fine.status).toBe(200);
    expect(fine.headers.get("x-llm-relay-budget-remaining-usd")).toBeNull();
  });
});
