/**
 * `POST /v1/embeddings` through the real proxy (HTTP on 127.0.0.1, the
 * `openai` SDK) to a fake OpenAI-compatible upstream: bodies pass through
 * byte for byte (float and base64), usage comes from the upstream (else
 * counted and flagged), errors are OpenAI bodies, and every exchange lands
 * in `llm_relay_embeddings` of the SQLite file — never in llm's tables,
 * never with its input text.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import { rows } from "../helpers/db.js";
import { fakeVector, startFakeEmbeddings, TOKENS_PER_INPUT, type FakeEmbeddings } from "../helpers/fake-embeddings.js";
import { fakeDeployment, startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";
import type { Deployment } from "../../src/config/schema.js";

interface EmbeddingRowOut {
  id: string;
  request_id: string;
  datetime_utc: string;
  model: string;
  provider: string | null;
  deployment: string | null;
  upstream_model: string | null;
  input_count: number;
  input_tokens: number | null;
  usage_estimated: number;
  dimensions: number | null;
  http_status: number;
  status: string;
  error: string | null;
  duration_ms: number;
  cost_usd: number | null;
  tenant_id: string | null;
  key_id: string | null;
}

let fake: FakeEmbeddings;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeEmbeddings();
  proxy = await startTestProxy(
    {
      models: {
        "embed-small": fakeDeployment(fake.baseUrl, { model: "text-embedding-3-small", api_key_env: "EMBED_KEY" }),
        "vllm-embed": { ...fakeDeployment(fake.baseUrl), provider: "vllm", model: "bge-m3" } as Deployment,
      },
    },
    { env: { EMBED_KEY: "sk-upstream-embed-key" } },
  );
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "sk-client-not-forwarded", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});
beforeEach(() => {
  fake.behave({ kind: "ok" });
  fake.requests.length = 0;
});

/** POSTs a raw body and returns status, headers and text. */
async function post(body: unknown): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(`${proxy.baseURL}/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The rows of `llm_relay_embeddings` once the recorder has written everything queued. */
async function embeddingRows(): Promise<EmbeddingRowOut[]> {
  await proxy.server.ctx.recorder.flush();
  return rows<EmbeddingRowOut>(proxy.dbPath, "SELECT * FROM llm_relay_embeddings ORDER BY id");
}

describe("POST /v1/embeddings to an openai-compatible upstream", () => {
  it("answers float vectors with the upstream's bytes, its usage and model, and sends the upstream model, key and unknown fields", async () => {
    const answer = await client.embeddings.create({
      model: "embed-small",
      input: ["first text", "second text"],
      encoding_format: "float",
      user: "user-7",
      dimensions: 3,
    });
    expect(answer.data.map((d) => d.embedding)).toEqual([fakeVector(0, 3), fakeVector(1, 3)]);
    expect(answer.data.map((d) => d.index)).toEqual([0, 1]);
    expect(answer.usage).toEqual({ prompt_tokens: 2 * TOKENS_PER_INPUT, total_tokens: 2 * TOKENS_PER_INPUT });
    expect(answer.model).toBe("text-embedding-3-small-served");

    const sent = fake.requests.at(-1)!;
    expect(sent.body).toEqual({
      model: "text-embedding-3-small",
      input: ["first text", "second text"],
      encoding_format: "float",
      user: "user-7",
      dimensions: 3,
    });
    expect(sent.headers.authorization).toBe("Bearer sk-upstream-embed-key");

    const raw = await post({
      model: "embed-small",
      input: "one",
      encoding_format: "float",
      extra_flag: { keep: true },
    });
    expect(raw.status).toBe(200);
    expect(raw.text).toBe(fake.requests.at(-1)!.answer);
    expect(raw.text).toContain("\n  "); // the fake's indentation survived: not re-serialised
    expect(raw.headers.get("x-llm-relay-deployment")).toBe("embed-small");
    expect(fake.requests.at(-1)!.body.extra_flag).toEqual({ keep: true });
  });

  it("passes base64 vectors through unchanged; the SDK's default (base64) decodes to the upstream's float32 values", async () => {
    const decoded = await client.embeddings.create({ model: "embed-small", input: ["a", "b", "c"] });
    expect(fake.requests.at(-1)!.body.encoding_format).toBe("base64");
    expect(decoded.data.map((d) => d.embedding)).toEqual([fakeVector(0), fakeVector(1), fakeVector(2)]);

    const raw = await post({ model: "embed-small", input: "x", encoding_format: "base64" });
    expect(raw.text).toBe(fake.requests.at(-1)!.answer);
    const body = JSON.parse(raw.text) as { data: { embedding: string }[] };
    expect(typeof body.data[0]!.embedding).toBe("string");
  });

  it("sends token-id input as given and records its count", async () => {
    const answer = await client.embeddings.create({
      model: "embed-small",
      input: [
        [1, 2, 3],
        [4, 5],
      ],
      encoding_format: "float",
    });
    expect(answer.data).toHaveLength(2);
    expect(fake.requests.at(-1)!.body.input).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    const row = (await embeddingRows()).find(
      (r) => r.input_count === 2 && r.input_tokens === 2 * TOKENS_PER_INPUT && r.status === "ok",
    );
    expect(row).toBeDefined();
  });

  it("counts the input tokens itself (flagged estimated) when the upstream reports no usage, still relaying its bytes", async () => {
    fake.behave({ kind: "ok", usage: false });
    const raw = await post({
      model: "embed-small",
      input: ["the quick brown fox", "jumps over the lazy dog"],
      encoding_format: "float",
    });
    expect(raw.status).toBe(200);
    expect(raw.text).toBe(fake.requests.at(-1)!.answer);
    const id = raw.headers.get("x-request-id")!;
    const row = (await embeddingRows()).find((r) => r.request_id === id)!;
    // o200k_base (GPT-4o's encoding, as OpenAI's tokenizer shows it): the| quick| brown| fox (4) + j|umps| over| the| lazy| dog (6).
    expect(row.input_tokens).toBe(10);
    expect(row.usage_estimated).toBe(1);
  });

  it("relays an upstream error with its status, message and retry-after, and records it", async () => {
    fake.behave({
      kind: "status",
      status: 429,
      headers: { "retry-after": "7" },
      body: JSON.stringify({
        error: {
          message: "Rate limit reached for text-embedding-3-small",
          type: "requests",
          param: null,
          code: "rate_limit_exceeded",
        },
      }),
    });
    const error = await client.embeddings
      .create({ model: "embed-small", input: "hello", encoding_format: "float" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const apiError = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(apiError.status).toBe(429);
    expect(apiError.message).toContain("Rate limit reached for text-embedding-3-small");
    expect(apiError.code).toBe("rate_limit_exceeded");
    expect(apiError.headers.get("retry-after")).toBe("7");
    const row = (await embeddingRows()).find((r) => r.request_id === apiError.requestID)!;
    expect(row).toMatchObject({
      status: "error",
      http_status: 429,
      input_tokens: null,
      model: "embed-small",
      deployment: "embed-small",
    });
    expect(row.error).toContain("Rate limit reached");
  });

  it("serves a vllm deployment through the same pass-through", async () => {
    const answer = await client.embeddings.create({
      model: "vllm-embed",
      input: "vllm text",
      encoding_format: "float",
    });
    expect(answer.data[0]!.embedding).toEqual(fakeVector(0));
    expect(fake.requests.at(-1)!.body.model).toBe("bge-m3");
  });
});

describe("POST /v1/embeddings: requests the proxy refuses", () => {
  it.each([
    [{ model: "embed-small" }, "input", "missing_required_parameter"],
    [{ input: "text" }, "model", "missing_required_parameter"],
    [{ model: "embed-small", input: 42 }, "input", "invalid_value"],
    [{ model: "embed-small", input: [] }, "input", "invalid_value"],
    [{ model: "embed-small", input: "" }, "input", "invalid_value"],
    [{ model: "embed-small", input: ["ok", 3] }, "input", "invalid_value"],
    [{ model: "embed-small", input: "x", encoding_format: "hex" }, "encoding_format", "invalid_value"],
    [{ model: "embed-small", input: "x", dimensions: 0 }, "dimensions", "invalid_value"],
  ])("400 for %j naming '%s'", async (body, param, code) => {
    const before = fake.requests.length;
    const answer = await post(body);
    expect(answer.status).toBe(400);
    const { error } = JSON.parse(answer.text) as {
      error: { param: string; code: string; type: string; message: string };
    };
    expect(error).toMatchObject({ param, code, type: "invalid_request_error" });
    expect(error.message).toContain(param);
    expect(fake.requests.length).toBe(before);
  });

  it("400 embeddings_not_supported for a model served by echo (the default model), recorded", async () => {
    const error = await client.embeddings
      .create({ model: "no-such-model", input: "hi", encoding_format: "float" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const apiError = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(apiError.code).toBe("embeddings_not_supported");
    expect(apiError.message).toMatch(/'echo' deployment, which does not support embeddings/);
    const row = (await embeddingRows()).find((r) => r.request_id === apiError.requestID)!;
    expect(row).toMatchObject({
      status: "error",
      http_status: 400,
      provider: "echo",
      model: "no-such-model",
      cost_usd: 0,
    });
  });

  it("404 model_not_found without a default model", async () => {
    const strict = await startTestProxy({
      defaultModel: null,
      models: { "embed-small": fakeDeployment(fake.baseUrl) },
    });
    try {
      const response = await fetch(`${strict.baseURL}/embeddings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "nope", input: "x" }),
      });
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string; param: string } }).error).toMatchObject({
        code: "model_not_found",
        param: "model",
      });
    } finally {
      await strict.close();
    }
  });
});

describe("recording embeddings in SQLite", () => {
  it("writes one llm_relay_embeddings row per exchange, nothing in llm's tables, and never the input text", async () => {
    const marker = "zebra-marmalade-embedding-input-31337";
    const answer = await post({
      model: "embed-small",
      input: [marker, `${marker} again`],
      encoding_format: "float",
      dimensions: 5,
    });
    expect(answer.status).toBe(200);
    const id = answer.headers.get("x-request-id")!;
    const row = (await embeddingRows()).find((r) => r.request_id === id)!;
    expect(row).toMatchObject({
      model: "embed-small",
      provider: "openai-compatible",
      deployment: "embed-small",
      upstream_model: "text-embedding-3-small",
      input_count: 2,
      input_tokens: 2 * TOKENS_PER_INPUT,
      usage_estimated: 0,
      dimensions: 5,
      http_status: 200,
      status: "ok",
      error: null,
      tenant_id: "default", // no API keys: every request is the default tenant's
      key_id: null,
      cost_usd: null, // the catalog has no price for this model
    });
    expect(row.id).toMatch(/^[0-9a-z]{26}$/);
    expect(row.datetime_utc).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/); // Python isoformat(): no fraction when the µs are 0
    expect(row.duration_ms).toBeGreaterThanOrEqual(0);
    expect(rows(proxy.dbPath, "SELECT id FROM responses")).toEqual([]);
    const files = [proxy.dbPath, `${proxy.dbPath}-wal`].filter((file) => fs.existsSync(file));
    for (const file of files) expect(fs.readFileSync(file).includes(marker)).toBe(false);
  });

  it("adds the table to a logs.db of schema version 2 and moves it to version 5 (the exchanges get their protocol column)", () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, "logs.db");
      SqliteStore.open(file).close();
      const db = new Database(file);
      db.exec(`DROP TABLE llm_relay_embeddings; UPDATE llm_relay_schema SET version = 2`);
      db.close();
      SqliteStore.open(file).close();
      const check = new Database(file, { readonly: true });
      try {
        expect(check.prepare(`SELECT version FROM llm_relay_schema`).all()).toEqual([{ version: 7 }]);
        expect(
          check.prepare(`SELECT 1 FROM pragma_table_info('llm_relay_exchanges') WHERE name = 'protocol'`).all(),
        ).toHaveLength(1);
        const columns = (
          check.prepare(`SELECT name FROM pragma_table_info('llm_relay_embeddings')`).all() as { name: string }[]
        ).map((c) => c.name);
        expect(columns).toEqual([
          "id",
          "request_id",
          "datetime_utc",
          "model",
          "provider",
          "deployment",
          "upstream_model",
          "input_count",
          "input_tokens",
          "usage_estimated",
          "dimensions",
          "http_status",
          "status",
          "error",
          "duration_ms",
          "cost_usd",
          "tenant_id",
          "key_id",
        ]);
      } finally {
        check.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
