/**
 * The issue's "Done when": a config file with a model of two deployments
 * and a fallback survives an upstream that fails every other request (a
 * 500, a connection reset before any byte, a 429, a 503 in turn), and the
 * client — the `openai` SDK with its own retries off — sees only
 * successes, streaming and not, four requests at a time. The library's
 * in-process path goes through the same dispatcher and survives the same
 * upstream. The attempts table of the run is printed (and written to
 * `attempts.txt` in the test's temp dir).
 */
import fs from "node:fs";
import path from "node:path";
import OpenAI from "openai";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { createClient } from "../../src/library/client.js";
import { startRelayServer, type RelayServer } from "../../src/server/relay-server.js";
import { rows } from "../helpers/db.js";
import {
  DEFAULT_TEXT,
  startFakeUpstream,
  type FakeBehaviour,
  type FakeUpstream,
} from "../helpers/fake-openai-upstream.js";
import { tempDir } from "../helpers/proxy.js";
import { allAttempts, attemptsTable, type AttemptRow } from "./resilience-helpers.js";

const REQUESTS = 40;
const CONCURRENCY = 4;

/** Every other request fails, each time in another way. */
const FAILS_EVERY_OTHER: FakeBehaviour = {
  kind: "cycle",
  steps: [
    {
      kind: "status",
      status: 500,
      body: '{"error":{"message":"Internal server error","type":"server_error","param":null,"code":null}}',
    },
    { kind: "ok" },
    { kind: "reset" },
    { kind: "ok" },
    {
      kind: "status",
      status: 429,
      body: '{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}',
      headers: { "Retry-After": "0" },
    },
    { kind: "ok" },
    {
      kind: "status",
      status: 503,
      body: '{"error":{"message":"The server is overloaded","type":"server_error","param":null,"code":null}}',
    },
    { kind: "ok" },
  ],
};

let flaky: FakeUpstream;
let backup: FakeUpstream;
let dir: string;
let configPath: string;

beforeAll(async () => {
  [flaky, backup] = await Promise.all([startFakeUpstream(FAILS_EVERY_OTHER), startFakeUpstream()]);
  dir = tempDir();
  configPath = path.join(dir, "llm-relay.yaml");
  fs.writeFileSync(
    configPath,
    `# Two deployments of one model on a flaky upstream, and a fallback on another.
default_model: null
routing:
  num_retries: 1
  retry_base_ms: 50
models:
  main:
    routing_strategy: simple-shuffle
    fallbacks: [backup]
    deployments:
      - provider: openai-compatible
        base_url: ${flaky.baseUrl}
        model: main-a
        timeout_ms: 5000
      - provider: openai-compatible
        base_url: ${flaky.baseUrl}
        model: main-b
        timeout_ms: 5000
  backup:
    provider: openai-compatible
    base_url: ${backup.baseUrl}
    model: backup-model
`,
  );
});
afterAll(async () => {
  await Promise.all([flaky?.close(), backup?.close()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `count` calls of `one`, `CONCURRENCY` at a time. */
async function inBatches<T>(count: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let start = 0; start < count; start += CONCURRENCY) {
    out.push(
      ...(await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count - start) }, (_, k) => one(start + k)))),
    );
  }
  return out;
}

/** The checks every run shares: upstream counts agree with the attempts, failures are exactly the flaky upstream's failed half. */
function checkAttempts(attempts: readonly AttemptRow[], flakyBefore: number, backupBefore: number): void {
  const flakyRequests = flaky.requests.length - flakyBefore;
  const backupRequests = backup.requests.length - backupBefore;
  expect(attempts.length).toBe(flakyRequests + backupRequests);
  // The upstream failed every other request it received, no more, no less (the cycle restarts with a failure).
  const failed = attempts.filter((a) => a.status !== "ok");
  expect(failed.length).toBe(Math.ceil(flakyRequests / 2));
  expect(failed.every((a) => a.model === "main")).toBe(true);
  expect(new Set(failed.map((a) => a.status))).toEqual(new Set(["error", "unreachable"]));
  expect(new Set(attempts.filter((a) => a.model === "main").map((a) => a.deployment))).toEqual(
    new Set(["main#1", "main#2"]),
  );
  expect(
    attempts.filter((a) => a.model === "backup").every((a) => a.status === "ok" && a.deployment === "backup"),
  ).toBe(true);
}

describe("two deployments and a fallback in front of an upstream failing every other request", () => {
  it(`the openai SDK (maxRetries: 0) sees ${REQUESTS} successes streaming and ${REQUESTS} not — and the attempts table is printed`, async () => {
    const dbPath = path.join(dir, "server.db");
    const config = loadConfig({ configPath, env: {}, db: dbPath, port: 0, cwd: dir });
    const server: RelayServer = await startRelayServer(config, { logger: pino({ level: "silent" }), env: {} });
    try {
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const messages = [{ role: "user" as const, content: "Are you there?" }];
      flaky.behave(FAILS_EVERY_OTHER);
      const flakyBefore = flaky.requests.length;
      const backupBefore = backup.requests.length;

      const texts = await inBatches(REQUESTS * 2, async (i) => {
        const requestId = `${i % 2 === 0 ? "stream" : "json"}-${String(i).padStart(2, "0")}`;
        if (i % 2 === 0) {
          const stream = await client.chat.completions.create(
            { model: "main", messages, stream: true },
            { headers: { "x-request-id": requestId } },
          );
          let text = "";
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
          return text;
        }
        const completion = await client.chat.completions.create(
          { model: "main", messages },
          { headers: { "x-request-id": requestId } },
        );
        return completion.choices[0]!.message.content;
      });
      expect(texts).toEqual(Array.from({ length: REQUESTS * 2 }, () => DEFAULT_TEXT));

      await server.ctx.recorder.flush();
      const exchanges = rows<{ status: string; http_status: number; attempts: number; deployment: string }>(
        dbPath,
        "SELECT status, http_status, attempts, deployment FROM llm_relay_exchanges",
      );
      expect(exchanges).toHaveLength(REQUESTS * 2);
      expect(exchanges.every((e) => e.status === "ok" && e.http_status === 200)).toBe(true);
      const attempts = allAttempts(dbPath);
      checkAttempts(attempts, flakyBefore, backupBefore);
      expect(exchanges.reduce((sum, e) => sum + e.attempts, 0)).toBe(attempts.length);
      // Some exchanges needed more than one attempt (the upstream failed half of them).
      expect(exchanges.some((e) => e.attempts > 1)).toBe(true);

      const table = attemptsTable(
        [...attempts].sort((a, b) => a.request_id.localeCompare(b.request_id) || a.attempt - b.attempt),
      );
      const summary = summarise(attempts, exchanges);
      fs.writeFileSync(path.join(dir, "attempts.txt"), `${summary}\n\n${table}\n`);
      console.log(
        `llm_relay_attempts of the "Done when" run (${REQUESTS * 2} requests through the proxy):\n${summary}\n\n${table}`,
      );
    } finally {
      await server.close();
    }
  });

  it("the library's in-process client survives the same upstream (same dispatcher)", async () => {
    const dbPath = path.join(dir, "library.db");
    const client = createClient({ config: { ...loadConfig({ configPath, env: {}, db: dbPath, cwd: dir }) }, env: {} });
    try {
      flaky.behave(FAILS_EVERY_OTHER);
      const flakyBefore = flaky.requests.length;
      const backupBefore = backup.requests.length;
      const responses = await inBatches(20, async (i) => {
        if (i % 2 === 0) {
          const stream = client.streamCompletion("Are you there?", { model: "main" });
          let text = "";
          for await (const delta of stream) text += delta;
          const response = await stream.response;
          return { ...response, content: text };
        }
        return client.generateCompletion("Are you there?", { model: "main" });
      });
      for (const response of responses) expect(response).toMatchObject({ success: true, content: DEFAULT_TEXT });
      const attempts = allAttempts(dbPath);
      checkAttempts(attempts, flakyBefore, backupBefore);
      expect(attempts.length).toBeGreaterThan(20);
    } finally {
      await client.close();
    }
  });
});

/** A few lines: requests, attempts by outcome, who answered. */
function summarise(
  attempts: readonly AttemptRow[],
  exchanges: readonly { attempts: number; deployment: string }[],
): string {
  const count = <T>(items: readonly T[], key: (item: T) => string) =>
    Object.entries(
      items.reduce<Record<string, number>>((acc, item) => ((acc[key(item)] = (acc[key(item)] ?? 0) + 1), acc), {}),
    )
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join(", ");
  return [
    `exchanges: ${exchanges.length} (all ok); attempts: ${attempts.length}`,
    `attempts per exchange: ${count(exchanges, (e) => String(e.attempts))}`,
    `answered by: ${count(exchanges, (e) => e.deployment)}`,
    `attempt outcomes: ${count(attempts, (a) => `${a.deployment} ${a.status}${a.http_status && a.status !== "ok" ? ` ${a.http_status}` : ""}`)}`,
  ].join("\n");
}
