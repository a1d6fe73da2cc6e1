/**
 * exchangeCostUsd: tokens × the catalog's USD per million tokens, keyed by
 * the exchange's deployment (a preset pattern such as `groq/*`) or its
 * provider kind (`anthropic`) and upstream model; 0 for local backends;
 * null when the hosted model has no price or no provider was reached.
 * Prices are read from the JSON data files directly.
 */
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { exchangeCostUsd, LOCAL_PROVIDER_KINDS } from "../../src/catalog/index.js";

function price(provider: string, id: string): { input: number; output: number } {
  const file = JSON.parse(
    fs.readFileSync(new URL(`../../src/catalog/data/${provider}.json`, import.meta.url), "utf8"),
  ) as {
    models: { id: string; input_usd_per_mtok: number; output_usd_per_mtok: number }[];
  };
  const entry = file.models.find((m) => m.id === id);
  if (!entry) throw new Error(`${provider}/${id} is not in the catalog`);
  return { input: entry.input_usd_per_mtok, output: entry.output_usd_per_mtok };
}

const usage = { input: 1234, output: 567 };

describe("exchangeCostUsd", () => {
  it("prices a preset deployment's model: input × $/M in + output × $/M out", () => {
    const p = price("groq", "llama-3.3-70b-versatile");
    const cost = exchangeCostUsd({
      provider: "openai-compatible",
      deployment: "groq/*",
      upstreamModel: "llama-3.3-70b-versatile",
      usage,
    });
    expect(cost).toBeCloseTo((usage.input * p.input + usage.output * p.output) / 1e6, 12);
    expect(cost).toBeGreaterThan(0);
  });

  it("prices every anthropic deployment from the Anthropic catalog, dated names included", () => {
    const p = price("anthropic", "claude-sonnet-4-20250514");
    const expected = (usage.input * p.input + usage.output * p.output) / 1e6;
    expect(
      exchangeCostUsd({
        provider: "anthropic",
        deployment: "anthropic/*",
        upstreamModel: "claude-sonnet-4-20250514",
        usage,
      }),
    ).toBeCloseTo(expected, 12);
    expect(
      exchangeCostUsd({ provider: "anthropic", deployment: "my-claude", upstreamModel: "claude-sonnet-4-0", usage }),
    ).toBeCloseTo(expected, 12);
  });

  it("reads the preset from a deployment name with a #n suffix (one of several deployments)", () => {
    const p = price("openai", "gpt-4o-mini");
    expect(
      exchangeCostUsd({ provider: "openai-compatible", deployment: "openai/*#2", upstreamModel: "gpt-4o-mini", usage }),
    ).toBeCloseTo((usage.input * p.input + usage.output * p.output) / 1e6, 12);
  });

  it.each([...LOCAL_PROVIDER_KINDS])("a %s deployment costs 0", (kind) => {
    expect(exchangeCostUsd({ provider: kind, deployment: "local-model", upstreamModel: "llama3", usage })).toBe(0);
  });

  it("is null for a hosted model without a price, an unknown deployment, no usage, or no provider reached", () => {
    expect(
      exchangeCostUsd({ provider: "openai-compatible", deployment: "groq/*", upstreamModel: "unlisted-model", usage }),
    ).toBeNull();
    expect(
      exchangeCostUsd({ provider: "openai-compatible", deployment: "my-server", upstreamModel: "gpt-4o", usage }),
    ).toBeNull();
    expect(
      exchangeCostUsd({
        provider: "openai-compatible",
        deployment: "groq/*",
        upstreamModel: "llama-3.3-70b-versatile",
        usage: null,
      }),
    ).toBeNull();
    expect(exchangeCostUsd({ provider: null, deployment: null, upstreamModel: null, usage })).toBeNull();
  });

  it("costs 0 for 0 tokens", () => {
    expect(
      exchangeCostUsd({
        provider: "openai-compatible",
        deployment: "groq/*",
        upstreamModel: "llama-3.3-70b-versatile",
        usage: { input: 0, output: 0 },
      }),
    ).toBe(0);
  });
});
