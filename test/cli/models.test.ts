/**
 * `llm-relay models` as a process: the same list as `GET /v1/models` —
 * configured names, aliases, and the catalog models of the presets turned
 * on by a key in the environment or by `presets:` in the config file — as
 * a table (model, provider, context window, max output, $/M in, $/M out,
 * tools, vision) or as JSON; a bad config exits 1 naming the key. Catalog
 * numbers are read from the JSON data files directly.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killAll, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/proxy.js";

interface RawEntry {
  id: string;
  context_window: number;
  max_output_tokens: number;
  input_usd_per_mtok: number;
  output_usd_per_mtok: number;
  supports_tools: boolean;
  supports_vision: boolean;
}

function rawModels(provider: string): RawEntry[] {
  return (
    JSON.parse(fs.readFileSync(new URL(`../../src/catalog/data/${provider}.json`, import.meta.url), "utf8")) as {
      models: RawEntry[];
    }
  ).models;
}

const HEADER = ["model", "provider", "context", "max output", "$/M in", "$/M out", "tools", "vision"];

/** The table's rows as cells, keyed by model name (fails on a duplicate). */
function parseTable(stdout: string): Map<string, string[]> {
  expect(stdout.endsWith("\n")).toBe(true);
  const [header, ...lines] = stdout.slice(0, -1).split("\n");
  expect(header!.split(/\s{2,}/)).toEqual(HEADER);
  const out = new Map<string, string[]>();
  for (const line of lines) {
    const cells = line.split(/\s{2,}/);
    expect(cells, line).toHaveLength(HEADER.length);
    expect(out.has(cells[0]!), cells[0]).toBe(false);
    out.set(cells[0]!, cells);
  }
  return out;
}

function expectedCells(id: string, provider: string, entry: RawEntry): string[] {
  const yn = (b: boolean) => (b ? "yes" : "no");
  return [
    id,
    provider,
    String(entry.context_window),
    String(entry.max_output_tokens),
    String(entry.input_usd_per_mtok),
    String(entry.output_usd_per_mtok),
    yn(entry.supports_tools),
    yn(entry.supports_vision),
  ];
}

let cwd: string;
beforeAll(() => {
  cwd = tempDir("llm-relay-models-cli-");
});
afterAll(() => {
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
});
afterEach(() => killAll());

describe("llm-relay models", () => {
  it("without keys or config lists only echo", async () => {
    const result = await runCli(["models"], { cwd });
    expect(result.code, result.stderr).toBe(0);
    expect([...parseTable(result.stdout).keys()]).toEqual(["echo"]);
    expect(parseTable(result.stdout).get("echo")).toEqual(["echo", "echo", "-", "-", "-", "-", "-", "-"]);
  });

  it("with GROQ_API_KEY set lists every groq catalog model with its numbers", async () => {
    const result = await runCli(["models"], { cwd, env: { GROQ_API_KEY: "gsk-test" } });
    expect(result.code, result.stderr).toBe(0);
    const table = parseTable(result.stdout);
    const groq = rawModels("groq");
    expect([...table.keys()]).toEqual(["echo", ...groq.map((m) => `groq/${m.id}`)]);
    for (const entry of groq)
      expect(table.get(`groq/${entry.id}`)).toEqual(expectedCells(`groq/${entry.id}`, "groq", entry));
  });

  it("-c reads presets:, models and aliases from the config file; --json prints the same list", async () => {
    const config = path.join(cwd, "relay.yaml");
    fs.writeFileSync(
      config,
      [
        "presets:",
        "  anthropic: {}",
        "models:",
        "  local-llama:",
        "    provider: ollama",
        "    base_url: http://127.0.0.1:11434",
        "    context_window: 4096",
        "aliases:",
        "  claude: anthropic/claude-3-5-haiku-20241022",
        "",
      ].join("\n"),
    );
    const result = await runCli(["models", "-c", config], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const table = parseTable(result.stdout);
    const anthropic = rawModels("anthropic");
    for (const entry of anthropic)
      expect(table.get(`anthropic/${entry.id}`)).toEqual(expectedCells(`anthropic/${entry.id}`, "anthropic", entry));
    expect(table.get("local-llama")).toEqual(["local-llama", "ollama", "4096", "-", "-", "-", "-", "-"]);
    const haiku = anthropic.find((m) => m.id === "claude-3-5-haiku-20241022")!;
    expect(table.get("claude")).toEqual(expectedCells("claude", "anthropic", haiku));

    const json = await runCli(["models", "-c", config, "--json"], { cwd });
    expect(json.code, json.stderr).toBe(0);
    const listed = JSON.parse(json.stdout) as {
      id: string;
      provider: string;
      contextWindow: number | null;
      inputUsdPerMTok: number | null;
    }[];
    expect(listed.map((m) => m.id)).toEqual([...table.keys()]);
    expect(listed.find((m) => m.id === "claude")).toMatchObject({
      provider: "anthropic",
      contextWindow: haiku.context_window,
      inputUsdPerMTok: haiku.input_usd_per_mtok,
    });
  });

  it("a config naming an unknown preset: exit 1, the message names the key", async () => {
    const config = path.join(cwd, "bad.yaml");
    fs.writeFileSync(config, "presets:\n  opneai: {}\n");
    const result = await runCli(["models", "-c", config], { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("presets.opneai");
    expect(result.stdout).toBe("");
  });
});
