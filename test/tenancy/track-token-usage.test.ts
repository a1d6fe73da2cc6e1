/**
 * `trackTokenUsage()` from the package root: writes a ledger row in the
 * database it is pointed at (a SQLite file, a config's `db`, a PostgreSQL
 * URL, or an open store), answers a repeated idempotency key with the first
 * row and `duplicate: true`, and never throws: an invalid event or an
 * unreachable database comes back as `success: false` with the reason.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closeTokenUsageStores, trackTokenUsage } from "../../src/index.js";
import { rows } from "../helpers/db.js";
import { tempDir } from "../helpers/proxy.js";
import { createBackend, type Backend } from "./backends.js";
import { match } from "../helpers/matchers.js";

afterEach(async () => {
  await closeTokenUsageStores();
});

describe("trackTokenUsage on SQLite", () => {
  it("writes a row into the given logs.db and answers a repeated key as a duplicate of the first row", async () => {
    const db = path.join(tempDir("llm-relay-track-"), "logs.db");
    const first = await trackTokenUsage(
      {
        tenantId: "acme",
        keyId: "key_1",
        model: "gpt-4o-mini",
        provider: "openai-compatible",
        inputTokens: 120,
        outputTokens: 30,
        costUsd: 0.000036,
        idempotencyKey: "job-42",
        metadata: { job: 42 },
      },
      { db },
    );
    expect(first).toEqual({
      success: true,
      duplicate: false,
      data: match.objectContaining({
        tenantId: "acme",
        keyId: "key_1",
        model: "gpt-4o-mini",
        tokens: 150,
        costUsd: 0.000036,
        idempotencyKey: "job-42",
        metadata: { job: 42 },
        operation: "query",
        tokenType: "llm",
      }),
    });
    const second = await trackTokenUsage(
      { tenantId: "acme", model: "gpt-4o-mini", inputTokens: 1, idempotencyKey: "job-42" },
      { db },
    );
    expect(second).toEqual({ success: true, duplicate: true, data: first.data });
    expect(rows(db, "SELECT id, tenant_id, tokens, cost_usd, metadata FROM llm_relay_usage")).toEqual([
      { id: first.data!.id, tenant_id: "acme", tokens: 150, cost_usd: 0.000036, metadata: '{"job":42}' },
    ]);
  });

  it("defaults to the config's database", async () => {
    const dir = tempDir("llm-relay-track-config-");
    const db = path.join(dir, "nested", "logs.db");
    fs.writeFileSync(path.join(dir, "llm-relay.yaml"), `db: ${JSON.stringify(db)}\n`);
    const result = await trackTokenUsage(
      { model: "echo", tokenType: "embedding", operation: "internal", inputTokens: 8 },
      { config: path.join(dir, "llm-relay.yaml") },
    );
    expect(result.success).toBe(true);
    expect(
      rows(db, "SELECT tenant_id, token_type, operation, input_tokens, output_tokens, tokens FROM llm_relay_usage"),
    ).toEqual([
      {
        tenant_id: "default",
        token_type: "embedding",
        operation: "internal",
        input_tokens: 8,
        output_tokens: 0,
        tokens: 8,
      },
    ]);
  });

  it("answers an invalid event or an unusable database with success: false instead of throwing", async () => {
    const db = path.join(tempDir("llm-relay-track-bad-"), "logs.db");
    const invalid = await trackTokenUsage({ model: "echo", outputTokens: -5 }, { db });
    expect(invalid).toEqual({
      success: false,
      data: null,
      duplicate: false,
      error: match.stringMatching(/^invalid usage event: outputTokens: /),
    });
    const unknownField = await trackTokenUsage({ model: "echo", input_tokens: 5 } as never, { db });
    expect(unknownField.success === false && unknownField.error).toMatch(/input_tokens/);
    expect(rows(db, "SELECT id FROM llm_relay_usage")).toEqual([]);
    const notSqlite = path.join(tempDir("llm-relay-track-notdb-"), "notes.txt");
    fs.writeFileSync(
      notSqlite,
      "this is not a database, just some text that is long enough to have a header".repeat(20),
    );
    const broken = await trackTokenUsage({ model: "echo" }, { db: notSqlite });
    expect(broken.success === false && broken.error).toMatch(
      /^cannot open the usage ledger at .*notes\.txt: file is not a database/,
    );
    const missingConfig = await trackTokenUsage({ model: "echo" }, { config: path.join(tempDir(), "missing.yaml") });
    expect(missingConfig.success).toBe(false);
  });
});

describe("trackTokenUsage on PostgreSQL", () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await createBackend("postgres");
  });
  afterAll(async () => {
    await backend.cleanup();
  });

  it("writes into the database of databaseUrl, and a store instance sees the same key as a duplicate", async () => {
    const result = await trackTokenUsage(
      {
        tenantId: "acme",
        model: "llama3",
        inputTokens: 3,
        outputTokens: 4,
        estimated: true,
        idempotencyKey: "req_pg_1",
      },
      { databaseUrl: backend.location },
    );
    expect(result).toMatchObject({
      success: true,
      duplicate: false,
      data: { tenantId: "acme", tokens: 7, estimated: true },
    });
    const store = await backend.open();
    const again = await trackTokenUsage({ model: "llama3", idempotencyKey: "req_pg_1" }, { store });
    expect(again).toEqual({ success: true, duplicate: true, data: result.data });
    expect(await backend.raw("SELECT tenant_id, tokens, estimated FROM llm_relay_usage")).toEqual([
      { tenant_id: "acme", tokens: 7, estimated: true },
    ]);
  });

  it("defaults to the config's database_url", async () => {
    const dir = tempDir("llm-relay-track-pg-config-");
    fs.writeFileSync(path.join(dir, "llm-relay.yaml"), `database_url: ${JSON.stringify(backend.location)}\n`);
    const result = await trackTokenUsage(
      { tenantId: "from-config", model: "echo", outputTokens: 2 },
      { config: path.join(dir, "llm-relay.yaml") },
    );
    expect(result).toMatchObject({ success: true, duplicate: false });
    expect(await backend.raw("SELECT tokens FROM llm_relay_usage WHERE tenant_id = ?", ["from-config"])).toEqual([
      { tokens: 2 },
    ]);
  });

  it("answers success: false when PostgreSQL cannot be reached", async () => {
    const result = await trackTokenUsage(
      { model: "echo" },
      { databaseUrl: "postgres://postgres:secret@127.0.0.1:1/test" },
    );
    expect(result.success).toBe(false);
    expect(result.success === false && result.error).toMatch(
      /^cannot open the usage ledger at postgres:\/\/postgres@127\.0\.0\.1:1\/test: .*ECONNREFUSED/,
    );
    expect(result.success === false && result.error).not.toContain("secret");
  });
});
