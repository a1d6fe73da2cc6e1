/**
 * Cost recorded end to end: the `groq` preset pointed at a loopback fake
 * OpenAI upstream through the config file (`presets.groq.base_url`), a
 * chat through the proxy with the openai SDK, and `cost_usd` in the real
 * SQLite file = the upstream's usage × the catalog's groq prices, with
 * `usage_estimated` 0; when the upstream sends no usage (a `groq/*`
 * deployment configured with `stream_usage: false`, so the streamed
 * answer carries none) the recorder estimates the tokens, prices them,
 * and flags the row estimated. `llm-relay logs` shows both costs, `~`
 * marking the estimated one. Prices are read from the JSON data file.
 */
import fs from "node:fs";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { formatUsd } from "../../src/catalog/format-usd.js";
import { loadConfig } from "../../src/config/load.js";
import { killAll, runCli } from "../helpers/cli.js";
import { rows } from "../helpers/db.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";

const MODEL = "llama-3.1-8b-instant";

/** The groq catalog price of MODEL, read from the data file. */
function groqPrice(): { input: number; output: number } {
  const file = JSON.parse(fs.readFileSync(new URL("../../src/catalog/data/groq.json", import.meta.url), "utf8")) as {
    models: { id: string; input_usd_per_mtok: number; output_usd_per_mtok: number }[];
  };
  const entry = file.models.find((m) => m.id === MODEL)!;
  return { input: entry.input_usd_per_mtok, output: entry.output_usd_per_mtok };
}

interface Recorded {
  id: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | null;
  usage_estimated: number;
  deployment: string;
  upstream_model: string;
}

let fake: FakeUpstream;
let cwd: string;

/** Starts a proxy from `configYaml` (written to a config file) with GROQ_API_KEY in its environment. */
async function proxyFromConfig(configYaml: string): Promise<TestProxy> {
  fs.writeFileSync(path.join(cwd, "llm-relay.yaml"), configYaml);
  const config = loadConfig({ cwd, env: {} });
  return startTestProxy({ models: config.models }, { env: { GROQ_API_KEY: "gsk-test" } });
}

async function recorded(proxy: TestProxy, requestId: string): Promise<Recorded> {
  await proxy.server.ctx.recorder.flush();
  const [row] = rows<Recorded>(
    proxy.dbPath,
    `SELECT r.id, r.input_tokens, r.output_tokens, e.cost_usd, e.usage_estimated, e.deployment, e.upstream_model
       FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id WHERE e.request_id = ?`,
    requestId,
  );
  expect(row, requestId).toBeDefined();
  return row!;
}

beforeAll(async () => {
  fake = await startFakeUpstream();
  cwd = tempDir("llm-relay-cost-");
});
afterAll(async () => {
  await fake?.close();
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
});
afterEach(() => killAll());

describe("cost of a groq preset exchange", () => {
  it("is the upstream's usage × the catalog price, not estimated, and `llm-relay logs` shows it", async () => {
    const proxy = await proxyFromConfig(`presets:\n  groq:\n    base_url: ${fake.baseUrl}\n`);
    try {
      const client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
      const completion = await client.chat.completions.create(
        { model: `groq/${MODEL}`, messages: [{ role: "user", content: "What does it cost?" }] },
        { headers: { "x-request-id": "req-cost-real" } },
      );
      // The fake's own usage, as the client saw it.
      const usage = completion.usage!;
      expect(usage.prompt_tokens).toBeGreaterThan(0);
      const sent = fake.requests.at(-1)!;
      expect(sent.body.model).toBe(MODEL);
      expect(sent.headers.authorization).toBe("Bearer gsk-test");

      const row = await recorded(proxy, "req-cost-real");
      expect(row).toMatchObject({
        deployment: "groq/*",
        upstream_model: MODEL,
        usage_estimated: 0,
        input_tokens: usage.prompt_tokens,
        output_tokens: usage.completion_tokens,
      });
      const price = groqPrice();
      const expected = (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1e6;
      expect(row.cost_usd).toBeCloseTo(expected, 12);
      expect(row.cost_usd).toBeGreaterThan(0);

      const table = await runCli(["logs", "--db", proxy.dbPath], { cwd });
      expect(table.code, table.stderr).toBe(0);
      const [header, line] = table.stdout.trimEnd().split("\n");
      const columns = header!.split(/\s{2,}/);
      const cells = line!.split(/\s{2,}/);
      expect(cells[columns.indexOf("model")]).toBe(`groq/${MODEL}`);
      expect(cells[columns.indexOf("cost")]).toBe(formatUsd(expected));
      expect(cells[columns.indexOf("cost")]).toMatch(/^\$0\.0000\d+$/);

      const json = await runCli(["logs", "--db", proxy.dbPath, "--json"], { cwd });
      expect(json.code, json.stderr).toBe(0);
      const [entry] = JSON.parse(json.stdout) as { id: string; costUsd: number; estimated: boolean }[];
      expect(entry).toMatchObject({ id: row.id, estimated: false });
      expect(entry!.costUsd).toBeCloseTo(expected, 12);
    } finally {
      await proxy.close();
    }
  });

  it("is priced from estimated tokens, and flagged, when the upstream reports no usage", async () => {
    const proxy = await proxyFromConfig(
      `models:\n  groq/*:\n    provider: openai-compatible\n    base_url: ${fake.baseUrl}\n    api_key_env: GROQ_API_KEY\n    stream_usage: false\n`,
    );
    try {
      const client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
      const stream = await client.chat.completions.create(
        { model: `groq/${MODEL}`, stream: true, messages: [{ role: "user", content: "Stream it without usage" }] },
        { headers: { "x-request-id": "req-cost-estimated" } },
      );
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      expect(text.length).toBeGreaterThan(0);
      // The upstream was not asked for usage and sent none.
      const sent = fake.requests.at(-1)!;
      expect(sent.body.stream_options).toBeUndefined();
      expect(sent.bodySent).not.toContain('"usage"');

      const row = await recorded(proxy, "req-cost-estimated");
      expect(row.usage_estimated).toBe(1);
      expect(row.input_tokens).toBeGreaterThan(0);
      expect(row.output_tokens).toBeGreaterThan(0);
      const price = groqPrice();
      const expected = (row.input_tokens * price.input + row.output_tokens * price.output) / 1e6;
      expect(row.cost_usd).toBeCloseTo(expected, 12);

      const table = await runCli(["logs", "--db", proxy.dbPath], { cwd });
      expect(table.code, table.stderr).toBe(0);
      const [header, line] = table.stdout.trimEnd().split("\n");
      const cells = line!.split(/\s{2,}/);
      expect(cells[header!.split(/\s{2,}/).indexOf("cost")]).toBe(`${formatUsd(expected)}~`);
    } finally {
      await proxy.close();
    }
  });
});

describe("formatUsd", () => {
  it("prints $0, cents with up to four decimals, and small amounts with three significant digits", () => {
    expect(formatUsd(0)).toBe("$0");
    expect(formatUsd(1.5)).toBe("$1.5");
    expect(formatUsd(0.0123)).toBe("$0.0123");
    expect(formatUsd(0.00000326)).toBe("$0.00000326");
    expect(formatUsd(0.0000456789)).toBe("$0.0000457");
  });
});
