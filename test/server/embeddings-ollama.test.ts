/**
 * `POST /v1/embeddings` to an `ollama` deployment: the proxy calls Ollama's
 * native `POST /api/embed` (the fake speaks the documented shapes of
 * test/fixtures/protocols/ollama/embed*.json) and answers OpenAI's list
 * shape, with usage from `prompt_eval_count` (else counted, flagged).
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deploymentDefaults } from "../../src/config/schema.js";
import { countTextTokens } from "../../src/tokens/count.js";
import { rows } from "../helpers/db.js";
import { EMBED_FIXTURE, EMBED_MULTIPLE_FIXTURE, startFakeOllama, type FakeOllama } from "../helpers/fake-ollama.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let ollama: FakeOllama;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  ollama = await startFakeOllama({ "all-minilm": {} });
  proxy = await startTestProxy({
    models: {
      minilm: {
        ...deploymentDefaults("ollama"),
        base_url: ollama.baseUrl,
        model: "all-minilm",
        timeout_ms: 2_000,
        extra_body: { options: { num_thread: 2 } },
      },
      missing: { ...deploymentDefaults("ollama"), base_url: ollama.baseUrl, model: "not-pulled", timeout_ms: 2_000 },
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "sk-test", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await ollama.close();
});
beforeEach(() => {
  ollama.behave({ kind: "ok" });
});

async function rowOf(requestId: string) {
  await proxy.server.ctx.recorder.flush();
  return rows<Record<string, unknown>>(
    proxy.dbPath,
    "SELECT * FROM llm_relay_embeddings WHERE request_id = ?",
    requestId,
  )[0];
}

describe("POST /v1/embeddings to ollama (/api/embed)", () => {
  it("maps one text to OpenAI's list with usage from prompt_eval_count", async () => {
    const response = await fetch(`${proxy.baseURL}/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "minilm", input: "Why is the sky blue?", encoding_format: "float" }),
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toEqual({
      object: "list",
      data: [{ object: "embedding", index: 0, embedding: EMBED_FIXTURE.embeddings[0] }],
      model: "all-minilm",
      usage: { prompt_tokens: EMBED_FIXTURE.prompt_eval_count, total_tokens: EMBED_FIXTURE.prompt_eval_count },
    });
    expect(ollama.requestsTo("/api/embed").at(-1)!.body).toEqual({
      model: "all-minilm",
      input: "Why is the sky blue?",
      options: { num_thread: 2 },
    });
    const row = await rowOf(response.headers.get("x-request-id")!);
    expect(row).toMatchObject({
      provider: "ollama",
      upstream_model: "all-minilm",
      input_count: 1,
      input_tokens: 8,
      usage_estimated: 0,
      dimensions: 10,
      cost_usd: 0,
      status: "ok",
    });
  });

  it("answers several texts in base64 (the SDK's default), counting tokens itself when Ollama reports none", async () => {
    const texts = ["Why is the sky blue?", "Why is the grass green?", "Why is the sea salty?"];
    const answer = await client.embeddings.create({ model: "minilm", input: texts });
    expect(ollama.requestsTo("/api/embed").at(-1)!.body.input).toEqual(texts);
    const [first, second] = EMBED_MULTIPLE_FIXTURE.embeddings;
    expect(answer.data.map((d) => d.embedding)).toEqual(
      [first, second, first].map((v) => v!.map((x) => Math.fround(x))),
    );
    const tokens = texts.reduce((n, t) => n + countTextTokens(t), 0);
    expect(answer.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
    const row = await rowOf(answer._request_id!);
    expect(row).toMatchObject({ input_count: 3, input_tokens: tokens, usage_estimated: 1 });
  });

  it("passes dimensions, truncate, keep_alive and the client's options to /api/embed", async () => {
    const raw = await fetch(`${proxy.baseURL}/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "minilm",
        input: "short",
        encoding_format: "float",
        dimensions: 4,
        truncate: false,
        keep_alive: "10m",
        options: { num_ctx: 512 },
      }),
    });
    const body = (await raw.json()) as { data: { embedding: number[] }[] };
    expect(body.data[0]!.embedding).toEqual(EMBED_FIXTURE.embeddings[0]!.slice(0, 4));
    expect(ollama.requestsTo("/api/embed").at(-1)!.body).toEqual({
      model: "all-minilm",
      input: "short",
      dimensions: 4,
      truncate: false,
      keep_alive: "10m",
      options: { num_thread: 2, num_ctx: 512 },
    });
  });

  it("400 for token-id input (Ollama embeds text only), before calling Ollama", async () => {
    const before = ollama.requestsTo("/api/embed").length;
    const error = await client.embeddings
      .create({ model: "minilm", input: [1, 2, 3], encoding_format: "float" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("input");
    expect(ollama.requestsTo("/api/embed").length).toBe(before);
  });

  it("404 model_not_found for a model Ollama has not pulled", async () => {
    const error = await client.embeddings
      .create({ model: "missing", input: "x", encoding_format: "float" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    const apiError = error as InstanceType<typeof OpenAI.NotFoundError>;
    expect(apiError.code).toBe("model_not_found");
    expect(apiError.message).toContain("ollama pull not-pulled");
  });

  it("relays Ollama's HTTP error with its status and message", async () => {
    ollama.behave({
      kind: "status",
      status: 500,
      body: JSON.stringify({ error: "failed to load model: out of memory" }),
    });
    const error = await client.embeddings
      .create({ model: "minilm", input: "x", encoding_format: "float" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    const apiError = error as InstanceType<typeof OpenAI.InternalServerError>;
    expect(apiError.status).toBe(500);
    expect(apiError.message).toContain("failed to load model: out of memory");
    const row = await rowOf(apiError.requestID!);
    expect(row).toMatchObject({ status: "error", http_status: 500, provider: "ollama" });
  });
});
