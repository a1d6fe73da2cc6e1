/**
 * The model catalog as data: every preset has a data file that loads and
 * passes the zod schema, with its sources and check date; broken files
 * are refused with a message naming the file and the key; lookups
 * tolerate dated snapshots and aliases; isProviderModel answers by
 * pattern and by catalog. Expected numbers are read from the JSON files
 * directly (not through the loader under test).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  CatalogError,
  catalogModels,
  catalogProviders,
  isProviderModel,
  lookupModel,
  parseProviderModel,
} from "../../src/catalog/index.js";
import { parseCatalogFile } from "../../src/catalog/load-catalog.js";
import { PRESET_NAMES } from "../../src/config/presets.js";
import * as packageRoot from "../../src/index.js";
import { omit } from "../helpers/omit.js";

const DATA_DIR = fileURLToPath(new URL("../../src/catalog/data/", import.meta.url));

interface RawEntry {
  id: string;
  aliases: string[];
  context_window: number;
  max_output_tokens: number;
  input_usd_per_mtok: number;
  output_usd_per_mtok: number;
  cached_input_usd_per_mtok?: number;
  cache_write_usd_per_mtok?: number;
  supports_tools: boolean;
  supports_vision: boolean;
}
interface RawFile {
  provider: string;
  source: string | string[];
  checked: string;
  models: RawEntry[];
}

/** A data file as plain JSON. */
function raw(provider: string): RawFile {
  return JSON.parse(fs.readFileSync(path.join(DATA_DIR, `${provider}.json`), "utf8")) as RawFile;
}

/** The raw entry `id` of `provider` (fails when absent). */
function rawEntry(provider: string, id: string): RawEntry {
  const entry = raw(provider).models.find((m) => m.id === id);
  expect(entry, `${provider}/${id}`).toBeDefined();
  return entry!;
}

/** The CatalogError parseCatalogFile throws for `value` (fails when it does not throw one). */
function refusal(value: unknown, provider = "groq"): CatalogError {
  let thrown: unknown;
  try {
    parseCatalogFile(JSON.stringify(value), provider, `${provider}.json`);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(CatalogError);
  return thrown as CatalogError;
}

const validEntry: RawEntry = {
  id: "m",
  aliases: [],
  context_window: 1000,
  max_output_tokens: 100,
  input_usd_per_mtok: 1,
  output_usd_per_mtok: 2,
  supports_tools: true,
  supports_vision: false,
};
const validFile = {
  provider: "groq",
  source: "https://example.com/pricing",
  checked: "2026-11-21",
  models: [validEntry],
};

describe("catalog data files", () => {
  it("has one file per preset, and no other", () => {
    expect(
      fs
        .readdirSync(DATA_DIR)
        .filter((n) => n.endsWith(".json"))
        .sort(),
    ).toEqual(PRESET_NAMES.map((n) => `${n}.json`).sort());
    expect(catalogProviders()).toEqual([...PRESET_NAMES].sort());
  });

  it.each([...PRESET_NAMES])(
    "%s.json loads, validates, names its sources and check date, and lists its models in order",
    (provider) => {
      const file = raw(provider);
      expect(file.provider).toBe(provider);
      const sources = Array.isArray(file.source) ? file.source : [file.source];
      expect(sources.length).toBeGreaterThan(0);
      for (const source of sources) expect(source).toMatch(/^https:\/\//);
      expect(file.checked).toMatch(/^\d{4}-\d\d-\d\d$/);
      const models = catalogModels(provider);
      expect(models.map((m) => m.id)).toEqual(file.models.map((m) => m.id));
      for (const [i, model] of models.entries()) {
        const entry = file.models[i]!;
        expect(model).toEqual({
          id: entry.id,
          provider,
          contextWindow: entry.context_window,
          maxOutputTokens: entry.max_output_tokens,
          inputUsdPerMTok: entry.input_usd_per_mtok,
          outputUsdPerMTok: entry.output_usd_per_mtok,
          cachedInputUsdPerMTok: entry.cached_input_usd_per_mtok ?? null,
          cacheWriteUsdPerMTok: entry.cache_write_usd_per_mtok ?? null,
          supportsTools: entry.supports_tools,
          supportsVision: entry.supports_vision,
        });
        expect(model.maxOutputTokens).toBeLessThanOrEqual(model.contextWindow);
      }
    },
  );

  it("accepts a minimal valid file", () => {
    expect(parseCatalogFile(JSON.stringify(validFile), "groq", "groq.json").models[0]!.id).toBe("m");
  });

  it("refuses text that is not JSON, naming the file", () => {
    let thrown: unknown;
    try {
      parseCatalogFile("{ not json", "groq", "groq.json");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CatalogError);
    expect((thrown as Error).message).toContain("groq.json is not JSON");
  });

  it("refuses a missing price, a negative price, a fractional context window and an unknown key, naming the key", () => {
    const noInput = omit(validEntry, "input_usd_per_mtok");
    expect(refusal({ ...validFile, models: [noInput] }).message).toMatch(/groq\.json: .*models\.0\.input_usd_per_mtok/);
    expect(refusal({ ...validFile, models: [{ ...validEntry, output_usd_per_mtok: -1 }] }).message).toContain(
      "models.0.output_usd_per_mtok",
    );
    expect(refusal({ ...validFile, models: [{ ...validEntry, context_window: 1.5 }] }).message).toContain(
      "models.0.context_window",
    );
    expect(refusal({ ...validFile, models: [{ ...validEntry, price: 3 }] }).message).toContain("models.0");
    expect(refusal({ ...validFile, checked: "yesterday" }).message).toContain("checked");
    expect(refusal({ ...validFile, models: [] }).message).toContain("models");
  });

  it("refuses a file naming another provider, and a model name listed twice", () => {
    expect(refusal(validFile, "openai").message).toContain("provider is 'groq', expected 'openai'");
    const twice = { ...validFile, models: [validEntry, { ...validEntry, id: "n", aliases: ["m"] }] };
    expect(refusal(twice).message).toContain("'m' appears twice");
  });
});

describe("lookupModel", () => {
  it("finds a model by its id", () => {
    const entry = rawEntry("groq", "llama-3.1-8b-instant");
    expect(lookupModel("groq", "llama-3.1-8b-instant")).toMatchObject({
      id: entry.id,
      provider: "groq",
      inputUsdPerMTok: entry.input_usd_per_mtok,
      outputUsdPerMTok: entry.output_usd_per_mtok,
    });
  });

  it("finds a dated Anthropic snapshot, its alias, and the undated name", () => {
    const entry = rawEntry("anthropic", "claude-sonnet-4-20250514");
    expect(lookupModel("anthropic", "claude-sonnet-4-20250514")?.maxOutputTokens).toBe(entry.max_output_tokens);
    expect(lookupModel("anthropic", "claude-sonnet-4-0")?.id).toBe("claude-sonnet-4-20250514");
    expect(lookupModel("anthropic", "claude-sonnet-4")?.id).toBe("claude-sonnet-4-20250514");
    expect(lookupModel("anthropic", "claude-3-5-haiku-latest")?.id).toBe("claude-3-5-haiku-20241022");
    expect(lookupModel("anthropic", "claude-sonnet-4-5")?.id).toBe("claude-sonnet-4-5-20250929");
  });

  it("strips an ISO-dated suffix (gpt-4o-mini-2024-07-18 → gpt-4o-mini) but keeps other version numbers apart", () => {
    expect(lookupModel("openai", "gpt-4o-mini-2099-01-01")?.id).toBe("gpt-4o-mini");
    expect(lookupModel("openai", "gpt-4.1-mini")?.id).toBe("gpt-4.1-mini");
    expect(lookupModel("mistral", "mistral-large-2411")?.id).toBe("mistral-large-latest");
    expect(lookupModel("mistral", "mistral-large-2407")).toBeNull();
  });

  it("returns null for an unknown model or provider", () => {
    expect(lookupModel("groq", "no-such-model")).toBeNull();
    expect(lookupModel("nowhere", "gpt-4o")).toBeNull();
    expect(lookupModel("groq", "gpt-4o")).toBeNull();
  });
});

describe("isProviderModel", () => {
  it("is true for <preset>/<model>, listed in the catalog or not", () => {
    expect(isProviderModel("groq/llama-3.1-8b-instant")).toBe(true);
    expect(isProviderModel("anthropic/claude-sonnet-4-20250514")).toBe(true);
    expect(isProviderModel("openrouter/openai/gpt-4o")).toBe(true);
    expect(isProviderModel("groq/a-model-released-tomorrow")).toBe(true);
  });

  it("is true for a bare model name the catalog knows", () => {
    expect(isProviderModel("gpt-4o")).toBe(true);
    expect(isProviderModel("claude-3-7-sonnet-20250219")).toBe(true);
    expect(isProviderModel("llama-3.3-70b-versatile")).toBe(true);
  });

  it("is false for anything else", () => {
    for (const name of ["foo", "echo", "local/llama", "groq/", "/gpt-4o", "groq", "openai-compatible/gpt-4o"])
      expect(isProviderModel(name), name).toBe(false);
  });

  it("takes a name apart into preset, upstream model and catalog entry", () => {
    expect(parseProviderModel("groq/llama-3.1-8b-instant")).toEqual({
      preset: "groq",
      model: "llama-3.1-8b-instant",
      catalog: lookupModel("groq", "llama-3.1-8b-instant"),
    });
    expect(parseProviderModel("groq/unlisted")).toEqual({ preset: "groq", model: "unlisted", catalog: null });
    expect(parseProviderModel("gpt-4o")).toMatchObject({
      preset: "openai",
      model: "gpt-4o",
      catalog: { id: "gpt-4o" },
    });
    expect(parseProviderModel("foo")).toBeNull();
  });
});

describe("the package root", () => {
  it("exports isProviderModel and lookupModel", () => {
    expect(packageRoot.isProviderModel("groq/llama-3.1-8b-instant")).toBe(true);
    expect(packageRoot.isProviderModel("foo")).toBe(false);
    expect(packageRoot.lookupModel("anthropic", "claude-sonnet-4-20250514")).toEqual(
      lookupModel("anthropic", "claude-sonnet-4-20250514"),
    );
  });
});
