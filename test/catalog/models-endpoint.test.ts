/**
 * `GET /v1/models` over HTTP, read with the openai SDK: with preset keys
 * in the environment, each active preset's catalog models are listed as
 * `<preset>/<model>` with `owned_by` = the preset and the catalog's
 * context window, output limit, prices and capabilities; configured
 * names and aliases are listed with their provider (an alias to a preset
 * model, or a configured anthropic deployment, carries that model's
 * catalog data); presets whose key is absent
 * list nothing. No upstream is contacted.
 */
import fs from "node:fs";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { deploymentDefaults } from "../../src/config/schema.js";
import { send } from "../helpers/exchanges.js";
import { fakeDeployment, startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";
import { match } from "../helpers/matchers.js";

interface RawEntry {
  id: string;
  context_window: number;
  max_output_tokens: number;
  input_usd_per_mtok: number;
  output_usd_per_mtok: number;
  supports_tools: boolean;
  supports_vision: boolean;
}

/** The models of a catalog data file, read directly. */
function rawModels(provider: string): RawEntry[] {
  return (
    JSON.parse(fs.readFileSync(new URL(`../../src/catalog/data/${provider}.json`, import.meta.url), "utf8")) as {
      models: RawEntry[];
    }
  ).models;
}

/** The fields /v1/models must show for a catalog entry. */
function expectedObject(id: string, ownedBy: string, entry: RawEntry): Record<string, unknown> {
  return {
    id,
    object: "model",
    owned_by: ownedBy,
    context_window: entry.context_window,
    max_output_tokens: entry.max_output_tokens,
    input_usd_per_mtok: entry.input_usd_per_mtok,
    output_usd_per_mtok: entry.output_usd_per_mtok,
    supports_tools: entry.supports_tools,
    supports_vision: entry.supports_vision,
  };
}

const env = { GROQ_API_KEY: "gsk-test", ANTHROPIC_API_KEY: "sk-ant-test" };
let proxy: TestProxy;
let client: OpenAI;
let cwd: string;

beforeAll(async () => {
  cwd = tempDir("llm-relay-models-");
  // The presets turn on exactly as `serve` would turn them on: from the keys in the environment.
  const config = loadConfig({ cwd, env });
  proxy = await startTestProxy(
    {
      models: {
        ...config.models,
        "my-local": fakeDeployment("http://127.0.0.1:9/v1", { context_window: 8192 }),
        "work-claude": {
          ...deploymentDefaults("anthropic"),
          base_url: "http://127.0.0.1:9",
          model: "claude-3-5-haiku-latest",
        },
      },
      aliases: { fast: "groq/llama-3.1-8b-instant", mine: "my-local" },
    },
    { env },
  );
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy?.close();
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
});

describe("GET /v1/models with GROQ_API_KEY and ANTHROPIC_API_KEY set", () => {
  it("lists every catalog model of the active presets as <preset>/<model>, with its catalog data", async () => {
    const listed = new Map<string, Record<string, unknown>>();
    for await (const model of client.models.list()) listed.set(model.id, model as unknown as Record<string, unknown>);
    for (const preset of ["groq", "anthropic"]) {
      for (const entry of rawModels(preset)) {
        const id = `${preset}/${entry.id}`;
        expect(listed.get(id), id).toMatchObject(expectedObject(id, preset, entry));
        expect(typeof listed.get(id)!.created).toBe("number");
      }
    }
    // The patterns themselves are not model names a client can send.
    expect(listed.has("groq/*")).toBe(false);
    expect(listed.has("anthropic/*")).toBe(false);
    // No key, no preset.
    expect([...listed.keys()].filter((id) => id.startsWith("openai/") || id.startsWith("mistral/"))).toEqual([]);
  });

  it("lists configured names and aliases with their provider; an alias to a preset model carries its catalog data", async () => {
    const answer = await send(`${proxy.baseURL}/models`);
    expect(answer.status).toBe(200);
    const body = answer.json as { object: string; data: Record<string, unknown>[] };
    expect(body.object).toBe("list");
    const byId = new Map(body.data.map((m) => [m.id as string, m]));
    expect(body.data.length).toBe(byId.size);
    expect(byId.get("echo")).toEqual({ id: "echo", object: "model", created: match.any(Number), owned_by: "echo" });
    expect(byId.get("my-local")).toEqual({
      id: "my-local",
      object: "model",
      created: byId.get("echo")!.created,
      owned_by: "openai-compatible",
      context_window: 8192,
    });
    expect(byId.get("mine")).toMatchObject({ owned_by: "openai-compatible", context_window: 8192 });
    const instant = rawModels("groq").find((m) => m.id === "llama-3.1-8b-instant")!;
    expect(byId.get("fast")).toMatchObject(expectedObject("fast", "groq", instant));
    // A configured anthropic deployment is described from the Anthropic catalog, by its upstream model.
    const haiku = rawModels("anthropic").find((m) => m.id === "claude-3-5-haiku-20241022")!;
    expect(byId.get("work-claude")).toMatchObject(expectedObject("work-claude", "anthropic", haiku));
  });

  it("GET /v1/models/<preset>/<model> returns one model; an unlisted name answers as routing would", async () => {
    const entry = rawModels("anthropic").find((m) => m.id === "claude-sonnet-4-20250514")!;
    const one = await client.models.retrieve("anthropic/claude-sonnet-4-20250514");
    expect(one).toMatchObject(expectedObject("anthropic/claude-sonnet-4-20250514", "anthropic", entry));
    // No openai preset is active, so a chat request for it reaches the default model, echo (404s: models-lookup.test.ts).
    const unlisted = await send(`${proxy.baseURL}/models/openai/gpt-4o`);
    expect(unlisted.status).toBe(200);
    expect(unlisted.json).toMatchObject({ id: "openai/gpt-4o", object: "model", owned_by: "echo" });
  });
});

describe("GET /v1/models without preset keys", () => {
  it("lists only the configured models", async () => {
    const bare = await startTestProxy();
    try {
      const answer = await send(`${bare.baseURL}/models`);
      expect((answer.json as { data: { id: string }[] }).data.map((m) => m.id)).toEqual(["echo"]);
    } finally {
      await bare.close();
    }
  });
});
