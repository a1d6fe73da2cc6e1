/**
 * exchangeCostUsd with prompt-cache counts: the cached part of the prompt
 * at the catalog's cached-input price, Anthropic's cache writes at its
 * cache-write price, the rest at the input price. Every expected figure is
 * worked out by hand from the catalog's list prices (USD per million
 * tokens, written out below), not by calling the code under test.
 */
import { describe, expect, it } from "vitest";
import { cachedPromptTokens, exchangeCostUsd, lookupModel } from "../../src/catalog/index.js";

describe("the catalog's cache prices", () => {
  it("are the list prices the hand computations below use", () => {
    expect(lookupModel("openai", "gpt-4.1")).toMatchObject({
      inputUsdPerMTok: 2,
      cachedInputUsdPerMTok: 0.5,
      outputUsdPerMTok: 8,
      cacheWriteUsdPerMTok: null,
    });
    expect(lookupModel("anthropic", "claude-sonnet-4-20250514")).toMatchObject({
      inputUsdPerMTok: 3,
      cachedInputUsdPerMTok: 0.3,
      cacheWriteUsdPerMTok: 3.75,
      outputUsdPerMTok: 15,
    });
    expect(lookupModel("deepseek", "deepseek-chat")).toMatchObject({
      inputUsdPerMTok: 0.28,
      cachedInputUsdPerMTok: 0.028,
      outputUsdPerMTok: 0.42,
    });
    expect(lookupModel("groq", "llama-3.1-8b-instant")).toMatchObject({
      inputUsdPerMTok: 0.05,
      outputUsdPerMTok: 0.08,
      cachedInputUsdPerMTok: null,
    });
  });
});

describe("exchangeCostUsd with cached prompt tokens", () => {
  it("prices OpenAI's prompt_tokens_details.cached_tokens at the cached-input price", () => {
    // gpt-4.1: 10,000 prompt tokens of which 8,000 cached, 500 completion tokens.
    // (2,000 × $2 + 8,000 × $0.50 + 500 × $8) / 1e6 = (4,000 + 4,000 + 4,000) / 1e6 = $0.012
    const usage = {
      input: 10_000,
      output: 500,
      details: {
        prompt_tokens_details: { cached_tokens: 8_000 },
        completion_tokens_details: { reasoning_tokens: 300 },
      },
    };
    expect(
      exchangeCostUsd({ provider: "openai-compatible", deployment: "openai/*", upstreamModel: "gpt-4.1", usage }),
    ).toBeCloseTo(0.012, 12);
  });

  it("prices Anthropic's cache reads and cache writes apart (input_tokens + both = the recorded prompt)", () => {
    // claude-sonnet-4: recorded prompt 4,020 = 20 uncached + 1,000 written + 3,000 read; 120 completion tokens.
    // (20 × $3 + 3,000 × $0.30 + 1,000 × $3.75 + 120 × $15) / 1e6 = (60 + 900 + 3,750 + 1,800) / 1e6 = $0.00651
    const usage = {
      input: 4_020,
      output: 120,
      details: { cache_creation_input_tokens: 1_000, cache_read_input_tokens: 3_000, service_tier: "standard" },
    };
    expect(
      exchangeCostUsd({
        provider: "anthropic",
        deployment: "claude",
        upstreamModel: "claude-sonnet-4-20250514",
        usage,
      }),
    ).toBeCloseTo(0.00651, 12);
  });

  it("reads DeepSeek's prompt_cache_hit_tokens when no prompt_tokens_details is given", () => {
    // deepseek-chat: 1,000 prompt tokens, 800 cache hits, 200 completion tokens.
    // (200 × $0.28 + 800 × $0.028 + 200 × $0.42) / 1e6 = (56 + 22.4 + 84) / 1e6 = $0.0001624
    const usage = {
      input: 1_000,
      output: 200,
      details: { prompt_cache_hit_tokens: 800, prompt_cache_miss_tokens: 200 },
    };
    expect(
      exchangeCostUsd({
        provider: "openai-compatible",
        deployment: "deepseek/*",
        upstreamModel: "deepseek-chat",
        usage,
      }),
    ).toBeCloseTo(0.0001624, 12);
  });

  it("charges cached tokens the plain input price when the catalog has no cached price", () => {
    // llama-3.1-8b-instant on groq: (1,000 × $0.05 + 100 × $0.08) / 1e6 = (50 + 8) / 1e6 = $0.000058, cache or not.
    const usage = { input: 1_000, output: 100, details: { prompt_tokens_details: { cached_tokens: 900 } } };
    expect(
      exchangeCostUsd({
        provider: "openai-compatible",
        deployment: "groq/*",
        upstreamModel: "llama-3.1-8b-instant",
        usage,
      }),
    ).toBeCloseTo(0.000058, 12);
  });

  it("without details (or an estimated usage) prices the whole prompt at the input price", () => {
    // gpt-4.1: (10,000 × $2 + 500 × $8) / 1e6 = (20,000 + 4,000) / 1e6 = $0.024
    expect(
      exchangeCostUsd({
        provider: "openai-compatible",
        deployment: "openai/*",
        upstreamModel: "gpt-4.1",
        usage: { input: 10_000, output: 500 },
      }),
    ).toBeCloseTo(0.024, 12);
    expect(
      exchangeCostUsd({
        provider: "openai-compatible",
        deployment: "openai/*",
        upstreamModel: "gpt-4.1",
        usage: { input: 10_000, output: 500, details: null },
      }),
    ).toBeCloseTo(0.024, 12);
  });

  it("never counts more cached tokens than the prompt had", () => {
    // A cached count above the prompt (a confused upstream) is capped: 100 prompt tokens, all cached.
    // gpt-4.1: (100 × $0.50 + 10 × $8) / 1e6 = (50 + 80) / 1e6 = $0.00013
    const usage = { input: 100, output: 10, details: { prompt_tokens_details: { cached_tokens: 5_000 } } };
    expect(
      exchangeCostUsd({ provider: "openai-compatible", deployment: "openai/*", upstreamModel: "gpt-4.1", usage }),
    ).toBeCloseTo(0.00013, 12);
  });
});

describe("cachedPromptTokens", () => {
  it("reads each provider's names and ignores what is not a count", () => {
    expect(cachedPromptTokens({ prompt_tokens_details: { cached_tokens: 45 } })).toEqual({ read: 45, written: 0 });
    expect(cachedPromptTokens({ cache_read_input_tokens: 7, cache_creation_input_tokens: 3 })).toEqual({
      read: 7,
      written: 3,
    });
    expect(cachedPromptTokens({ prompt_cache_hit_tokens: 12 })).toEqual({ read: 12, written: 0 });
    expect(
      cachedPromptTokens({ prompt_tokens_details: { cached_tokens: "45" }, cache_creation_input_tokens: -1 }),
    ).toEqual({ read: 0, written: 0 });
    expect(cachedPromptTokens(null)).toEqual({ read: 0, written: 0 });
  });
});
