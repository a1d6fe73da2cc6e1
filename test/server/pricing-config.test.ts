/**
 * Prices for any model: a deployment's `input_cost_per_mtok`,
 * `output_cost_per_mtok` and `cached_input_cost_per_mtok` (USD per million
 * tokens, read from a real llm-relay.yaml) price its exchanges — the
 * recorded `cost_usd`, the usage ledger, and so the budgets; a caller with a
 * USD budget (its key's or its tenant's) asking for a model routing could
 * send to an unpriced deployment is refused with 403 `model_not_priced`
 * before any upstream call, in the route's error shape, unless
 * `allow_unpriced: true`; a local backend (echo) costs 0 and is priced.
 * Clients: the `openai` and `@anthropic-ai/sdk` SDKs against fake upstreams
 * on 127.0.0.1, records read from the SQLite file.
 */
import fs from "node:fs";
import path from "node:path";
import Anthropic, { PermissionDeniedError } from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import type { CreatedApiKey, NewApiKey } from "../../src/tenancy/types.js";
import { rows } from "../helpers/db.js";
import { chat, chatBody, openAIError, send } from "../helpers/exchanges.js";
import { startFakeEmbeddings, TOKENS_PER_INPUT, type FakeEmbeddings } from "../helpers/fake-embeddings.js";
import { DEFAULT_USAGE, startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { readSse } from "../helpers/sse.js";
import { startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";
import { match } from "../helpers/matchers.js";

let fake: FakeUpstream;
let embeddings: FakeEmbeddings;
let proxy: TestProxy | null = null;

beforeAll(async () => {
  fake = await startFakeUpstream();
  embeddings = await startFakeEmbeddings();
});
afterAll(async () => {
  await fake.close();
  await embeddings.close();
});
afterEach(async () => {
  await proxy?.close();
  proxy = null;
});

/** Writes `yaml` as an llm-relay.yaml, loads it as `serve` would, and starts a proxy with what it says. */
async function proxyFromYaml(yaml: string): Promise<TestProxy> {
  const dir = tempDir("llm-relay-pricing-");
  fs.writeFileSync(path.join(dir, "llm-relay.yaml"), yaml);
  const config = loadConfig({ cwd: dir, env: {} });
  return startTestProxy({
    models: config.models,
    aliases: config.aliases,
    defaultModel: config.defaultModel,
    tenantBudgets: config.tenantBudgets ?? {},
    allowUnpriced: config.allowUnpriced ?? false,
  });
}

const PRICED = (base: string) => `
  priced:
    provider: openai-compatible
    base_url: ${base}
    input_cost_per_mtok: 2.5
    output_cost_per_mtok: 10
    cached_input_cost_per_mtok: 1.25`;
const PLAIN = (base: string) => `
  plain:
    provider: openai-compatible
    base_url: ${base}`;

/** USD of the fake's default usage (46 prompt, 12 completion tokens) at 2.5 and 10 USD per million. */
const DEFAULT_COST = (46 * 2.5 + 12 * 10) / 1_000_000;

const bearer = (key: CreatedApiKey) => ({ authorization: `Bearer ${key.plaintext}` });
const createKey = (p: TestProxy, input: NewApiKey) => p.server.ctx.tenancy.keys.create(input);

async function settled(p: TestProxy): Promise<void> {
  await p.server.ctx.recorder.flush();
  await p.server.ctx.booking.drain();
}

async function costs(p: TestProxy, requestId: string): Promise<{ exchange: unknown[]; ledger: unknown[] }> {
  await settled(p);
  return {
    exchange: rows<{ cost_usd: number | null }>(
      p.dbPath,
      `SELECT cost_usd FROM llm_relay_exchanges WHERE request_id = ?`,
      requestId,
    ).map((r) => r.cost_usd),
    ledger: rows<{ cost_usd: number | null }>(
      p.dbPath,
      `SELECT cost_usd FROM llm_relay_usage WHERE json_extract(metadata, '$.request_id') = ?`,
      requestId,
    ).map((r) => r.cost_usd),
  };
}

describe("a deployment's own prices", () => {
  it("price its exchanges in the record and the ledger, cache reads at cached_input_cost_per_mtok", async () => {
    proxy = await proxyFromYaml(`models:${PRICED(fake.baseUrl)}\n`);
    fake.enqueue(
      { kind: "ok" },
      {
        kind: "ok",
        usage: { ...DEFAULT_USAGE, prompt_tokens_details: { cached_tokens: 40 } },
      },
    );
    const plain = await chat(proxy, chatBody("priced"), { "x-request-id": "req-priced-1" });
    expect(plain.status).toBe(200);
    const streamed = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-priced-2" },
      body: JSON.stringify(chatBody("priced", { stream: true })),
    });
    expect((await readSse(streamed)).at(-1)).toBe("[DONE]");

    expect(await costs(proxy, "req-priced-1")).toEqual({ exchange: [DEFAULT_COST], ledger: [DEFAULT_COST] });
    // 40 of the 46 prompt tokens were cache reads: 6 × 2.5 + 40 × 1.25 + 12 × 10 per million.
    const cached = (6 * 2.5 + 40 * 1.25 + 12 * 10) / 1_000_000;
    expect(await costs(proxy, "req-priced-2")).toEqual({ exchange: [cached], ledger: [cached] });

    // The list shows the prices the exchanges are billed at.
    const listed = await new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused" }).models.retrieve("priced");
    expect(listed).toMatchObject({ input_usd_per_mtok: 2.5, output_usd_per_mtok: 10 });
  });

  it("are what a key's budget is spent against, down to a 429 budget_exceeded", async () => {
    proxy = await proxyFromYaml(`models:${PRICED(fake.baseUrl)}\n`);
    fake.behave({ kind: "ok" });
    // Room for one exchange of $0.000235 and part of a second.
    const key = await createKey(proxy, { tenant: "acme", budgetUsd: 0.0004 });
    const first = await chat(proxy, chatBody("priced"), bearer(key));
    expect(first.status).toBe(200);
    expect(first.headers.get("x-llm-relay-budget-remaining-usd")).toBe("0.0004");
    await settled(proxy);
    const second = await chat(proxy, chatBody("priced"), bearer(key));
    expect(second.status).toBe(200);
    expect(second.headers.get("x-llm-relay-budget-remaining-usd")).toBe("0.000165");
    await settled(proxy);

    const calls = fake.requests.length;
    const refused = await chat(proxy, chatBody("priced"), bearer(key));
    expect(refused.status).toBe(429);
    expect(openAIError(refused).code).toBe("budget_exceeded");
    expect(fake.requests.length).toBe(calls);
  });

  it("are checked when the config is loaded: a negative price names its key", () => {
    const dir = tempDir("llm-relay-pricing-");
    fs.writeFileSync(
      path.join(dir, "llm-relay.yaml"),
      `models:\n  m:\n    provider: openai-compatible\n    base_url: ${fake.baseUrl}\n    output_cost_per_mtok: -1\n`,
    );
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(/models\.m\.output_cost_per_mtok/);
  });
});

describe("an unpriced model and a USD budget", () => {
  it("is refused to a budgeted key with 403 model_not_priced before any upstream call, in each route's shape", async () => {
    proxy = await proxyFromYaml(`models:${PRICED(fake.baseUrl)}${PLAIN(fake.baseUrl)}\n`);
    fake.behave({ kind: "ok" });
    const budgeted = await createKey(proxy, { tenant: "acme", budgetUsd: 1 });
    const calls = fake.requests.length;

    const refused = await chat(proxy, chatBody("plain"), bearer(budgeted));
    expect(refused.status).toBe(403);
    const error = openAIError(refused);
    expect(error).toMatchObject({ type: "permission_error", code: "model_not_priced", param: "model" });
    expect(error.message).toContain("'plain'");
    expect(error.message).toContain("input_cost_per_mtok and output_cost_per_mtok");
    expect(error.message).toContain("models.plain");
    expect(error.message).toContain("allow_unpriced: true");

    // Anthropic's Messages route answers in Anthropic's shape; the SDK sees a permission error.
    const anthropic = new Anthropic({ baseURL: proxy.url, apiKey: budgeted.plaintext, maxRetries: 0 });
    const messages = anthropic.messages.create({
      model: "plain",
      max_tokens: 16,
      messages: [{ role: "user", content: "Hi" }],
    });
    await expect(messages).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(messages).rejects.toMatchObject({
      status: 403,
      error: { type: "error", error: { type: "permission_error", message: match.stringContaining("models.plain") } },
    });
    expect(fake.requests.length).toBe(calls);

    // A priced model, a local one (echo: 0 USD) and an unbudgeted key are served.
    expect((await chat(proxy, chatBody("priced"), bearer(budgeted))).status).toBe(200);
    const echo = await chat(proxy, chatBody("echo"), { ...bearer(budgeted), "x-request-id": "req-echo-budget" });
    expect(echo.status).toBe(200);
    expect(await costs(proxy, "req-echo-budget")).toEqual({ exchange: [0], ledger: [0] });
    const open = await createKey(proxy, { tenant: "acme" });
    expect((await chat(proxy, chatBody("plain"), bearer(open))).status).toBe(200);
  });

  it("is refused under a tenant budget too, and so is a priced model whose fallback has no price", async () => {
    proxy = await proxyFromYaml(
      `tenants:\n  team: { budget_usd: 5 }\nmodels:${PRICED(fake.baseUrl)}${PLAIN(fake.baseUrl)}
  guarded:
    provider: openai-compatible
    base_url: ${fake.baseUrl}
    input_cost_per_mtok: 1
    output_cost_per_mtok: 2
    fallbacks: [plain]\n`,
    );
    fake.behave({ kind: "ok" });
    const member = await createKey(proxy, { tenant: "team" });
    const calls = fake.requests.length;
    for (const model of ["plain", "guarded"]) {
      const refused = await chat(proxy, chatBody(model), bearer(member));
      expect(refused.status).toBe(403);
      expect(openAIError(refused)).toMatchObject({
        code: "model_not_priced",
        message: match.stringMatching(/tenant 'team'.*models\.plain/),
      });
    }
    expect(fake.requests.length).toBe(calls);
    expect((await chat(proxy, chatBody("priced"), bearer(member))).status).toBe(200);
  });

  it("is served with allow_unpriced: true, recorded and booked with no cost", async () => {
    proxy = await proxyFromYaml(`allow_unpriced: true\nmodels:${PLAIN(fake.baseUrl)}\n`);
    fake.behave({ kind: "ok" });
    const budgeted = await createKey(proxy, { tenant: "acme", budgetUsd: 1 });
    const answer = await chat(proxy, chatBody("plain"), { ...bearer(budgeted), "x-request-id": "req-allowed" });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-llm-relay-budget-remaining-usd")).toBe("1");
    expect(await costs(proxy, "req-allowed")).toEqual({ exchange: [null], ledger: [null] });
  });
});

describe("embeddings", () => {
  it("need only input_cost_per_mtok to be priced: the record's cost uses it, and a deployment without it is refused", async () => {
    proxy = await proxyFromYaml(`models:
  embed-priced:
    provider: openai-compatible
    base_url: ${embeddings.baseUrl}
    input_cost_per_mtok: 0.02
  embed-plain:
    provider: openai-compatible
    base_url: ${embeddings.baseUrl}\n`);
    const budgeted = await createKey(proxy, { tenant: "acme", budgetUsd: 1 });
    const served = await send(`${proxy.baseURL}/embeddings`, {
      body: { model: "embed-priced", input: "price this" },
      headers: bearer(budgeted),
    });
    expect(served.status).toBe(200);
    await settled(proxy);
    const [row] = rows<{ cost_usd: number | null }>(
      proxy.dbPath,
      `SELECT cost_usd FROM llm_relay_embeddings WHERE model = 'embed-priced'`,
    );
    expect(row!.cost_usd).toBeCloseTo((TOKENS_PER_INPUT * 0.02) / 1_000_000, 12);

    const calls = embeddings.requests.length;
    const refused = await send(`${proxy.baseURL}/embeddings`, {
      body: { model: "embed-plain", input: "price this" },
      headers: bearer(budgeted),
    });
    expect(refused.status).toBe(403);
    expect(openAIError(refused)).toMatchObject({
      code: "model_not_priced",
      message: match.stringContaining("Set input_cost_per_mtok (USD"),
    });
    expect(embeddings.requests.length).toBe(calls);
  });
});
