/**
 * Embeddings recorded in PostgreSQL: with `database_url` the proxy's
 * migrations add `llm_relay_embeddings` (version 2) and every exchange,
 * answered or failed, becomes one row there.
 */
import OpenAI from "openai";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFakeEmbeddings, TOKENS_PER_INPUT, type FakeEmbeddings } from "../helpers/fake-embeddings.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { fakeDeployment, startTestProxy } from "../helpers/proxy.js";

let schema: TestSchema;
let fake: FakeEmbeddings;
beforeEach(async () => {
  schema = await createTestSchema();
  fake = await startFakeEmbeddings();
});
afterEach(async () => {
  await fake.close();
  await schema.drop();
});

describe("embeddings recorded in PostgreSQL", () => {
  it("writes a row per exchange into llm_relay_embeddings", async () => {
    const proxy = await startTestProxy({
      databaseUrl: schema.url,
      models: { "embed-small": fakeDeployment(fake.baseUrl, { model: "text-embedding-3-small" }) },
    });
    const client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "sk-test", maxRetries: 0 });
    let okId: string | null;
    let failedId: string | null;
    try {
      const answer = await client.embeddings.create({
        model: "embed-small",
        input: ["one", "two"],
        encoding_format: "float",
      });
      okId = answer._request_id ?? null;
      fake.behave({
        kind: "status",
        status: 503,
        body: JSON.stringify({ error: { message: "overloaded", type: "server_error", param: null, code: null } }),
      });
      const error = (await client.embeddings
        .create({ model: "embed-small", input: "three", encoding_format: "float" })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(error.status).toBe(503);
      failedId = error.requestID ?? null;
    } finally {
      await proxy.close(); // drains the recorder
    }
    expect(await schema.rows("SELECT version, name FROM llm_relay_pg_migrations ORDER BY version")).toEqual([
      { version: 1, name: "llm 0.32 logs tables, llm_relay_exchanges, llm_relay_attempts" },
      { version: 2, name: "llm_relay_embeddings" },
      { version: 3, name: "llm_relay_exchanges tenant_id, key_id" },
      { version: 4, name: "llm_relay_reply_aliases" },
      { version: 5, name: "llm_relay_exchanges protocol" },
      { version: 6, name: "llm_relay_exchanges tool_convention" },
      { version: 7, name: "llm_relay_exchanges client, llm_relay_conversation_stats, browser indexes" },
    ]);
    const found = await schema.rows<Record<string, unknown>>(
      `SELECT request_id, model, provider, deployment, upstream_model, input_count, input_tokens, usage_estimated, dimensions, http_status, status, error, cost_usd, tenant_id, key_id
       FROM llm_relay_embeddings ORDER BY id`,
    );
    expect(found).toEqual([
      {
        request_id: okId,
        model: "embed-small",
        provider: "openai-compatible",
        deployment: "embed-small",
        upstream_model: "text-embedding-3-small",
        input_count: 2,
        input_tokens: 2 * TOKENS_PER_INPUT,
        usage_estimated: 0,
        dimensions: 4,
        http_status: 200,
        status: "ok",
        error: null,
        cost_usd: null,
        tenant_id: "default",
        key_id: null,
      },
      {
        request_id: failedId,
        model: "embed-small",
        provider: "openai-compatible",
        deployment: "embed-small",
        upstream_model: "text-embedding-3-small",
        input_count: 1,
        input_tokens: null,
        usage_estimated: 0,
        dimensions: null,
        http_status: 503,
        status: "error",
        error: "overloaded",
        cost_usd: null,
        tenant_id: "default",
        key_id: null,
      },
    ]);
    expect(await schema.count("SELECT * FROM responses")).toBe(0);
  });
});
