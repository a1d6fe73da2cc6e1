/**
 * `llm-relay logs` filters on a store holding mixed exchanges — models,
 * outcomes and HTTP statuses, tenants, inbound protocols, times a minute
 * apart, and two embedding exchanges (one failed) — on SQLite and on
 * PostgreSQL: `--model`, `--status`, `-q/--search` (llm's FTS tables;
 * PostgreSQL's tsvector), `--since/--until` (bench's forms), `--tenant`,
 * `--protocol`, embeddings listed and marked. The whole matrix goes through
 * the command's own flag-to-query function and the stores' query; the real
 * command line runs each kind of flag once, and `serve --database-url`
 * records into PostgreSQL what `logs --database-url` then lists.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logQueryOf, type LogsFlags } from "../../src/cli/logs.js";
import { PgStore } from "../../src/recording/postgres/pg-store.js";
import { readResponses } from "../../src/recording/sqlite/log-query.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { EmbeddingExchange, ExchangeRecord, LogRow } from "../../src/recording/types.js";
import { newUlid } from "../../src/recording/ulid.js";
import { killAll, runCli, startServe } from "../helpers/cli.js";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { tempDir } from "../helpers/proxy.js";
import { recordFor } from "../helpers/records.js";

/** The first exchange's start; each one starts a minute after the one before. */
const T0 = Date.parse("2026-03-01T10:00:00.000Z");
const minute = (n: number) => T0 + n * 60_000;

/** An exchange record: `prompt` asked of `model` at minute `at`, with `over` (protocol, tenant, outcome…). */
function exchange(at: number, model: string, prompt: string, over: Partial<ExchangeRecord> = {}): ExchangeRecord {
  const startedAt = minute(at);
  return recordFor(
    { model, messages: [{ role: "user", content: prompt }] },
    { id: newUlid(startedAt), requestId: `req-${at}`, startedAt, responseText: `answer to ${prompt}`, ...over },
  );
}

/** An embedding exchange at minute `at`. */
function embedding(at: number, over: Partial<EmbeddingExchange>): EmbeddingExchange {
  const startedAt = minute(at);
  return {
    id: newUlid(startedAt),
    requestId: `emb-${at}`,
    startedAt,
    durationMs: 12,
    requestedModel: "embed-small",
    provider: "openai-compatible",
    deployment: "embed-small",
    upstreamModel: "text-embedding-3-small",
    inputCount: 2,
    inputTokens: 8,
    usageEstimated: false,
    dimensions: 1536,
    httpStatus: 200,
    status: "ok",
    error: null,
    costUsd: 0.0000002,
    tenantId: "acme",
    keyId: null,
    ...over,
  };
}

const failed = { httpStatus: 502, status: "error", error: "upstream unreachable" } as const;
/** The store's exchanges, oldest first, by name. */
const X = {
  apple: exchange(0, "alpha", "apple banana", { tenantId: "acme", protocol: "chat" }),
  cherry: exchange(1, "beta", "cherry pie", { tenantId: "globex", protocol: "messages", receivedBody: {} }),
  split: exchange(2, "alpha-latest", "banana split", { resolvedModel: "alpha", protocol: "responses", ...failed }),
  durian: exchange(3, "gamma", "durian", {
    tenantId: "acme",
    protocol: "ollama",
    httpStatus: 499,
    status: "cancelled",
  }),
  elder: exchange(4, "beta", "elder banana", {
    tenantId: "acme",
    protocol: "completions",
    httpStatus: 429,
    status: "error",
    error: "rate limited",
  }),
  fig: exchange(5, "gamma", "fig jam", { tenantId: "globex", protocol: "gemini" }),
} satisfies Record<string, ExchangeRecord>;
const E = {
  failedEmbed: embedding(6, {
    httpStatus: 502,
    status: "error",
    error: "upstream unreachable",
    dimensions: null,
    inputTokens: null,
  }),
  okEmbed: embedding(7, { tenantId: "globex", requestedModel: "embed-large", upstreamModel: "text-embedding-3-large" }),
};
type Name = keyof typeof X | keyof typeof E;
const ALL: Record<Name, { id: string }> = { ...X, ...E };
/** Newest first, as `logs` lists them. */
const NEWEST_FIRST: Name[] = ["okEmbed", "failedEmbed", "fig", "elder", "durian", "split", "cherry", "apple"];

/** The names of `rows`, in their order. */
function names(rows: readonly LogRow[]): Name[] {
  const byId = new Map(Object.entries(ALL).map(([name, row]) => [row.id, name as Name]));
  return rows.map((row) => byId.get(row.id) ?? (`unknown ${row.id}` as Name));
}

/** Each filter, the flags that give it, and exactly what it selects (newest first). */
const CASES: { filter: string; flags: Partial<LogsFlags>; expected: Name[] }[] = [
  { filter: "no filter: everything, embeddings included", flags: {}, expected: NEWEST_FIRST },
  { filter: "--model (as requested)", flags: { model: "beta" }, expected: ["elder", "cherry"] },
  { filter: "--model (as resolved)", flags: { model: "alpha" }, expected: ["split", "apple"] },
  { filter: "--model of an embedding", flags: { model: "embed-small" }, expected: ["failedEmbed"] },
  {
    filter: "--status error: failed exchanges and the failed embedding",
    flags: { status: "error" },
    expected: ["failedEmbed", "elder", "split"],
  },
  { filter: "--status cancelled", flags: { status: "cancelled" }, expected: ["durian"] },
  { filter: "--status 502 (HTTP)", flags: { status: "502" }, expected: ["failedEmbed", "split"] },
  { filter: "--status ok", flags: { status: "ok" }, expected: ["okEmbed", "fig", "cherry", "apple"] },
  { filter: "-q: every word must occur", flags: { search: "banana" }, expected: ["elder", "split", "apple"] },
  { filter: "-q with two words", flags: { search: "banana split" }, expected: ["split"] },
  { filter: "-q in the answer", flags: { search: "answer cherry" }, expected: ["cherry"] },
  {
    filter: "--since (date-time)",
    flags: { since: "2026-03-01T10:04" },
    expected: ["okEmbed", "failedEmbed", "fig", "elder"],
  },
  { filter: "--until (date-time)", flags: { until: "2026-03-01T10:02" }, expected: ["cherry", "apple"] },
  {
    filter: "--since and --until",
    flags: { since: "2026-03-01T10:02", until: "2026-03-01T10:06" },
    expected: ["fig", "elder", "durian", "split"],
  },
  { filter: "--since (date): nothing before the day", flags: { since: "2026-03-02" }, expected: [] },
  { filter: "--tenant acme", flags: { tenant: "acme" }, expected: ["failedEmbed", "elder", "durian", "apple"] },
  { filter: "--tenant default (no tenant recorded)", flags: { tenant: "default" }, expected: ["split"] },
  { filter: "--protocol messages", flags: { protocol: "messages" }, expected: ["cherry"] },
  { filter: "--protocol ollama", flags: { protocol: "ollama" }, expected: ["durian"] },
  { filter: "--protocol gemini", flags: { protocol: "gemini" }, expected: ["fig"] },
  { filter: "--protocol completions", flags: { protocol: "completions" }, expected: ["elder"] },
  { filter: "--protocol chat", flags: { protocol: "chat" }, expected: ["apple"] },
  { filter: "--tenant with --status", flags: { tenant: "acme", status: "error" }, expected: ["failedEmbed", "elder"] },
  { filter: "-n 3", flags: { count: 3 }, expected: ["okEmbed", "failedEmbed", "fig"] },
];

let dir: string;
let dbPath: string;
let schema: TestSchema;

beforeAll(async () => {
  dir = tempDir("llm-relay-logs-");
  dbPath = path.join(dir, "logs.db");
  const sqlite = SqliteStore.open(dbPath);
  sqlite.writeBatch(Object.values(X));
  sqlite.writeEmbeddings(Object.values(E));
  sqlite.close();
  schema = await createTestSchema();
  const pg = await PgStore.open(schema.url);
  await pg.writeBatch(Object.values(X));
  await pg.writeEmbeddings(Object.values(E));
  await pg.close();
});
afterAll(async () => {
  await killAll();
  await schema?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The query `logs` makes of `flags` (with `-n 0`, all, unless given). */
function queryOf(flags: Partial<LogsFlags>) {
  return logQueryOf({ count: 0, ...flags });
}

describe("logs filters on SQLite", () => {
  it.each(CASES)("$filter", async ({ flags, expected }) => {
    expect(names(readResponses(dbPath, await queryOf(flags)))).toEqual(expected);
  });

  it("an embedding row is marked as one, with its inputs, dimensions, outcome and error", async () => {
    const [row] = readResponses(dbPath, await queryOf({ model: "embed-small" }));
    expect(row).toMatchObject({
      kind: "embedding",
      model: "embed-small",
      resolvedModel: "text-embedding-3-small",
      status: "error",
      httpStatus: 502,
      error: "upstream unreachable",
      inputCount: 2,
      dimensions: null,
      tenantId: "acme",
      prompt: null,
      protocol: null,
    });
    const [chat] = readResponses(dbPath, await queryOf({ protocol: "messages" }));
    expect(chat).toMatchObject({ kind: "response", protocol: "messages", tenantId: "globex", prompt: "cherry pie" });
  });
});

describe("logs filters on PostgreSQL", () => {
  it.each(CASES)("$filter", async ({ flags, expected }) => {
    const store = await PgStore.open(schema.url);
    try {
      expect(names(await store.listResponses(await queryOf(flags)))).toEqual(expected);
    } finally {
      await store.close();
    }
  });
});

describe("llm-relay logs on the command line", () => {
  /** `llm-relay logs <args…> --json` on the SQLite file: the names listed. */
  async function listed(args: string[]): Promise<Name[]> {
    const result = await runCli(["logs", "--db", dbPath, "--json", "-n", "0", ...args], { cwd: dir });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    return names(JSON.parse(result.stdout) as LogRow[]);
  }

  it("each filter flag, as typed (combined: the filters add up)", async () => {
    const [modelTenant, statusSearch, timeProtocol] = await Promise.all([
      listed(["--model", "beta", "--tenant", "acme"]),
      listed(["--status", "502", "-q", "banana"]),
      listed(["--since", "2026-03-01T10:01", "--until", "2026-03-01T10:05", "--protocol", "ollama"]),
    ]);
    expect(modelTenant).toEqual(["elder"]);
    expect(statusSearch).toEqual(["split"]);
    expect(timeProtocol).toEqual(["durian"]);
  }, 30_000);

  it("the table marks embeddings; bad filter values are refused with a message", async () => {
    const [table, badProtocol, badStatus, badSince] = await Promise.all([
      runCli(["logs", "--db", dbPath, "--status", "error"], { cwd: dir }),
      runCli(["logs", "--db", dbPath, "--protocol", "grpc"], { cwd: dir }),
      runCli(["logs", "--db", dbPath, "--status", "weird"], { cwd: dir }),
      runCli(["logs", "--db", dbPath, "--since", "yesterday"], { cwd: dir }),
    ]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(4); // header, then split, elder, the failed embedding (oldest first)
    expect(lines[1]).toContain("error 502");
    expect(lines[3]).toMatch(/embed-small .*error 502 .*\[embeddings\] 2 inputs/);
    expect(badProtocol).toMatchObject({ code: 1, stdout: "" });
    expect(badProtocol.stderr).toBe(
      "llm-relay: --protocol must be one of chat, messages, responses, ollama, gemini, completions; got 'grpc'\n",
    );
    expect(badStatus.code).toBe(1);
    expect(badStatus.stderr).toContain(
      "--status must be one of ok, error, cancelled, truncated, history or an HTTP status",
    );
    expect(badSince.code).toBe(1);
    expect(badSince.stderr).toContain("not a date, date-time or age (30m, 12h, 7d): 'yesterday'");
  }, 30_000);

  it("serve --database-url records into PostgreSQL; logs --database-url -q and --tenant find it", async () => {
    const own = await createTestSchema();
    try {
      const proc = await startServe(["--database-url", own.url, "--port", "0"], { cwd: dir });
      const res = await fetch(`${proc.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "echo", messages: [{ role: "user", content: "kiwi through postgres" }] }),
      });
      expect(res.status).toBe(200);
      proc.child.kill("SIGTERM");
      expect((await proc.waitForExit()).code).toBe(0);
      expect(fs.existsSync(path.join(dir, "xdg-data", "llm-relay", "logs.db"))).toBe(false);
      const [found, missed] = await Promise.all([
        runCli(["logs", "--database-url", own.url, "--json", "-q", "kiwi", "--tenant", "default"], { cwd: dir }),
        runCli(["logs", "--database-url", own.url, "--json", "-q", "mango"], { cwd: dir }),
      ]);
      expect(found.stderr).toBe("");
      const rows = JSON.parse(found.stdout) as LogRow[];
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        kind: "response",
        prompt: "kiwi through postgres",
        protocol: "chat",
        status: "ok",
      });
      expect(JSON.parse(missed.stdout)).toEqual([]);
    } finally {
      await own.drop();
    }
  }, 30_000);
});
