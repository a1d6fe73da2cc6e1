/**
 * The proxy with `database_url`: exchanges sent over HTTP with the openai
 * SDK land in PostgreSQL (no SQLite file is made), and two proxies on one
 * database record 200 concurrent requests, each exactly once.
 */
import fs from "node:fs";
import path from "node:path";
import OpenAI from "openai";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { aiderRequest } from "../helpers/fixtures.js";
import { chat, send } from "../helpers/exchanges.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { fakeDeployment, startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";
import { loadConfig } from "../../src/config/load.js";
import { match } from "../helpers/matchers.js";

let schema: TestSchema;
let upstream: FakeUpstream;
let proxies: TestProxy[] = [];
beforeEach(async () => {
  schema = await createTestSchema();
  upstream = await startFakeUpstream({ kind: "ok", text: "Hello from the fake upstream", chunkCount: 4 });
  proxies = [];
});
afterEach(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await upstream.close();
  await schema.drop();
});

async function proxyOnPg(): Promise<TestProxy> {
  const proxy = await startTestProxy({
    databaseUrl: schema.url,
    models: { "gpt-test": fakeDeployment(upstream.baseUrl) },
  });
  proxies.push(proxy);
  return proxy;
}

describe("proxy recording into PostgreSQL", () => {
  it("records streamed and non-streamed exchanges and an upstream error; no SQLite file is created", async () => {
    const proxy = await proxyOnPg();
    const client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "sk-test-not-a-secret", maxRetries: 0 });

    const stream = await client.chat.completions.create(
      { ...aiderRequest(), model: "gpt-test", stream: true },
      { headers: { "x-request-id": "req-stream" } },
    );
    let streamed = "";
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? "";
    expect(streamed).toBe("Hello from the fake upstream");

    const completion = await client.chat.completions.create(
      { model: "gpt-test", messages: [{ role: "user", content: "Say hi" }] },
      { headers: { "x-request-id": "req-plain" } },
    );
    expect(completion.choices[0]!.message.content).toBe("Hello from the fake upstream");

    upstream.enqueue({
      kind: "status",
      status: 500,
      body: JSON.stringify({ error: { message: "boom", type: "server_error" } }),
    });
    const failed = await chat(
      proxy,
      { model: "gpt-test", messages: [{ role: "user", content: "fail please" }] },
      { "x-request-id": "req-fail" },
    );
    expect(failed.status).toBe(500);

    await proxy.server.ctx.recorder.flush();
    expect(proxy.server.ctx.recorder.failedWrites).toBe(0);
    const exchanges = await schema.rows<{
      request_id: string;
      status: string;
      http_status: number;
      stream: number;
      provider: string;
      usage_estimated: number;
    }>(
      "SELECT request_id, status, http_status, stream, provider, usage_estimated FROM llm_relay_exchanges ORDER BY response_id",
    );
    expect(exchanges).toEqual([
      {
        request_id: "req-stream",
        status: "ok",
        http_status: 200,
        stream: 1,
        provider: "openai-compatible",
        usage_estimated: match.any(Number),
      },
      {
        request_id: "req-plain",
        status: "ok",
        http_status: 200,
        stream: 0,
        provider: "openai-compatible",
        usage_estimated: match.any(Number),
      },
      {
        request_id: "req-fail",
        status: "error",
        http_status: 500,
        stream: 0,
        provider: "openai-compatible",
        usage_estimated: match.any(Number),
      },
    ]);
    const live = await schema.rows<{
      prompt: string;
      response: string;
      model: string;
      input_tokens: number;
      output_tokens: number;
      request_id: string;
    }>(
      "SELECT r.prompt, r.response, r.model, r.input_tokens, r.output_tokens, e.request_id FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id ORDER BY r.id",
    );
    expect(live.map((r) => [r.request_id, r.model, r.response])).toEqual([
      ["req-stream", "gpt-test", "Hello from the fake upstream"],
      ["req-plain", "gpt-test", "Hello from the fake upstream"],
      ["req-fail", "gpt-test", ""],
    ]);
    expect(live[1]!.prompt).toBe("Say hi");
    expect(live.every((r) => r.input_tokens > 0)).toBe(true);
    expect(live[0]!.output_tokens).toBeGreaterThan(0);
    // The aider request's history became 5 history rows of its conversation.
    expect(await schema.count("SELECT * FROM responses")).toBe(3 + 5);
    expect(await schema.count("SELECT * FROM turns")).toBe(2 + 5); // and the history rows' turns
    expect(await schema.count("SELECT * FROM conversations")).toBe(3);
    expect(fs.existsSync(proxy.dbPath)).toBe(false);

    const health = await send(`${proxy.url}/health`);
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({
      status: "ok",
      db: { writable: true },
      recorder: { written: 3, failed_writes: 0 },
    });
  });

  it("two proxies on one database record 200 concurrent requests, each once", async () => {
    const [a, b] = [await proxyOnPg(), await proxyOnPg()];
    const base = aiderRequest();
    const requests = Array.from({ length: 200 }, (_, i) => {
      // Half extend the same aider conversation, half are conversations of their own.
      const messages =
        i % 2 === 0
          ? [
              ...base.messages.slice(0, -1),
              { role: "user", content: `${base.messages.at(-1)!.content} (variant ${i})` },
            ]
          : [{ role: "user", content: `question ${i}` }];
      return chat(
        i % 2 === 0 ? a : b,
        { model: "gpt-test", stream: i % 4 < 2, messages },
        { "x-request-id": `req-${String(i).padStart(3, "0")}` },
      );
    });
    const answers = await Promise.all(requests);
    expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: 200 }, () => 200));
    await Promise.all([a.server.ctx.recorder.flush(), b.server.ctx.recorder.flush()]);
    expect(a.server.ctx.recorder.failedWrites + b.server.ctx.recorder.failedWrites).toBe(0);

    const recorded = await schema.rows<{ request_id: string; n: string }>(
      "SELECT request_id, count(*) AS n FROM llm_relay_exchanges GROUP BY request_id ORDER BY request_id",
    );
    expect(recorded.map((r) => r.request_id)).toEqual(
      Array.from({ length: 200 }, (_, i) => `req-${String(i).padStart(3, "0")}`),
    );
    expect(recorded.every((r) => Number(r.n) === 1)).toBe(true);
    expect(await schema.count("SELECT * FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id")).toBe(
      200,
    );
    // One turn per exchange, and five history turns for each of the 100 aider variants (each starts a conversation).
    expect(await schema.count("SELECT * FROM turns")).toBe(200 + 100 * 5);
    // The aider history is stored once, however many exchanges re-sent it through either proxy.
    expect(
      await schema.count(
        `SELECT * FROM messages m JOIN parts p ON p.message_hash = m.hash WHERE p.text = 'Change the greeting to be more casual'`,
      ),
    ).toBe(1);
  });
});

describe("database_url in the config", () => {
  it("comes from the flag, LLM_RELAY_DATABASE_URL, a postgres DATABASE_URL or the file, in that order", () => {
    const cwd = tempDir("llm-relay-dburl-");
    try {
      const file = path.join(cwd, "llm-relay.yaml");
      fs.writeFileSync(file, "database_url: postgres://file@db:5432/relay\n");
      expect(loadConfig({ cwd, env: {} }).databaseUrl).toBe("postgres://file@db:5432/relay");
      expect(loadConfig({ cwd, env: { DATABASE_URL: "postgresql://env@db/relay" } }).databaseUrl).toBe(
        "postgresql://env@db/relay",
      );
      // Another engine's DATABASE_URL (shared with other tools) is not ours.
      expect(loadConfig({ cwd, env: { DATABASE_URL: "mysql://x@db/app" } }).databaseUrl).toBe(
        "postgres://file@db:5432/relay",
      );
      expect(
        loadConfig({
          cwd,
          env: { DATABASE_URL: "postgresql://env@db/relay", LLM_RELAY_DATABASE_URL: "postgres://ours@db/relay" },
        }).databaseUrl,
      ).toBe("postgres://ours@db/relay");
      expect(
        loadConfig({
          cwd,
          env: { LLM_RELAY_DATABASE_URL: "postgres://ours@db/relay" },
          databaseUrl: "postgres://flag@db/relay",
        }).databaseUrl,
      ).toBe("postgres://flag@db/relay");
      expect(() => loadConfig({ cwd, env: { LLM_RELAY_DATABASE_URL: "mysql://secret@db/x" } })).toThrow(
        /must be a postgres:\/\/ or postgresql:\/\/ URL, got 'mysql:\/\/…@db\/x'/,
      );
      fs.writeFileSync(file, "database_url: sqlite:///tmp/x.db\n");
      expect(() => loadConfig({ cwd, env: {} })).toThrow(/database_url: must be a postgres/);
      fs.rmSync(file);
      expect(loadConfig({ cwd, env: {} }).databaseUrl).toBeUndefined();
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});
