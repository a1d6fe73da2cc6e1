/**
 * The tokens/s rule of the bench report: output tokens over the generation
 * time (total − TTFT), and no figure where none can be a generation rate.
 */
import { describe, expect, it } from "vitest";
import { MAX_PLAUSIBLE_TOKENS_PER_SECOND, MIN_GENERATION_MS, tokensPerSecond } from "../../src/bench/throughput.js";

describe("tokens per second", () => {
  it("divides the output tokens by the generation time only, not by the time to the first token", () => {
    // 430 ms to the first token, then 100 tokens in 1 s
    expect(tokensPerSecond(100, 1430, 430)).toBe(100);
    expect(tokensPerSecond(12, 190, 40)).toBe(80);
  });

  it("refuses figures that cannot be a generation rate", () => {
    // the reported bug: TTFT ≈ total gave 16,000–48,780 tokens/s
    expect(tokensPerSecond(100, 166, 164)).toBeNull();
    expect(tokensPerSecond(200, 434, 430)).toBeNull();
    // no text, one token, no generation time, less than the minimum
    expect(tokensPerSecond(50, 300, null)).toBeNull();
    expect(tokensPerSecond(1, 300, 100)).toBeNull();
    expect(tokensPerSecond(20, 300, 300)).toBeNull();
    expect(tokensPerSecond(2, 100 + MIN_GENERATION_MS - 0.1, 100)).toBeNull();
    expect(tokensPerSecond(2, 100 + MIN_GENERATION_MS, 100)).toBe(200);
    // above the bound: refused; at it: kept
    expect(tokensPerSecond(MAX_PLAUSIBLE_TOKENS_PER_SECOND + 1, 1100, 100)).toBeNull();
    expect(tokensPerSecond(MAX_PLAUSIBLE_TOKENS_PER_SECOND, 1100, 100)).toBe(MAX_PLAUSIBLE_TOKENS_PER_SECOND);
  });
});
