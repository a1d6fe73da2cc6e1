/**
 * Token counting is linear on any input and unchanged on ordinary text:
 * gpt-tokenizer's BPE merge is quadratic in the length of one pre-tokenizer
 * piece (a run of one letter, CJK without punctuation, emoji, punctuation),
 * so 200 KB of one letter took 21 s; the counts of ordinary texts (the aider
 * request, a coding agent's request, code, prose in several scripts, emoji)
 * stay exactly gpt-tokenizer's.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import fc from "fast-check";
import { countTokens } from "gpt-tokenizer";
import { describe, expect, it } from "vitest";
import { COUNT_LIMIT_CHARS, countPromptTokens, countTextTokens, TokenCounter } from "../../src/tokens/count.js";
import { gptTokenizer } from "../../src/tokens/gpt-tokenizer.js";
import { MAX_PIECE_CHARS, mayHoldLongPiece } from "../../src/tokens/piecewise-count.js";
import { estimateTokensFromSize } from "../../src/tokens/size-estimate.js";
import { aiderRequest } from "../helpers/fixtures.js";

const plain = (text: string) => countTokens(text, { disallowedSpecial: new Set() });
const shared = (file: string) => fs.readFileSync(new URL(`../../../shared/fixtures/${file}`, import.meta.url), "utf8");
const source = (file: string) => fs.readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");

/** Deterministic base64 noise (a hash chain), `bytes` long before encoding. */
function base64Noise(bytes: number): string {
  const parts: Buffer[] = [];
  let block = createHash("sha256").update("seed").digest();
  for (let n = 0; n < bytes; n += block.length) parts.push((block = createHash("sha256").update(block).digest()));
  return Buffer.concat(parts).subarray(0, bytes).toString("base64");
}

const corpus: Record<string, string> = {
  "aider request (every message)": aiderRequest()
    .messages.map((m) => m.content)
    .join("\n"),
  "codex request body": shared("agents/openai-responses/codex.turn1.request.body.json"),
  "TypeScript source": source("src/server/admission.ts"),
  "markdown docs": source("docs/ARCHITECTURE.md"),
  "code with a 100-dash rule and a long URL": `// ${"-".repeat(100)}\nconst url = "https://example.com/a/very/long/path/${"segment/".repeat(20)}?q=${"x".repeat(60)}";\n${"=".repeat(80)}\n`,
  "base64 blob": base64Noise(6_000),
  Chinese:
    "自然语言处理是计算机科学和人工智能的一个分支，研究如何让计算机理解和生成人类语言。它包括分词、句法分析、语义理解等任务。".repeat(
      20,
    ),
  Japanese:
    "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。".repeat(
      20,
    ),
  Russian: "Съешь же ещё этих мягких французских булок, да выпей чаю. ".repeat(40),
  Arabic: "اللغة العربية هي لغة سامية يتحدث بها أكثر من أربعمائة مليون شخص حول العالم. ".repeat(30),
  Hindi: "हिन्दी विश्व की एक प्रमुख भाषा है और भारत की राजभाषा है। ".repeat(30),
  emoji: "Ship it 🚀🚀 — thanks 🙏🏽! 👩‍👩‍👧‍👦 family, flags 🇫🇷🇯🇵, ok 👍\n".repeat(30),
  "special-token text": "<|im_start|>user\nhello<|im_end|>\n<|endoftext|>".repeat(20),
};

describe("counts of ordinary text", () => {
  for (const [name, text] of Object.entries(corpus)) {
    it(`equal gpt-tokenizer's for ${name}`, () => {
      expect(text.length).toBeLessThan(COUNT_LIMIT_CHARS);
      expect(countTextTokens(text)).toBe(plain(text));
    });
  }

  it("of the aider request's prompt equal the message-by-message gpt-tokenizer sum plus the chat overhead", () => {
    const messages = aiderRequest().messages;
    const expected = 3 + messages.reduce((n, m) => n + 3 + plain(m.role) + plain(m.content), 0);
    expect(countPromptTokens(messages)).toBe(expected);
  });
});

describe("counts of one huge piece", () => {
  // Each of these runs is one pre-tokenizer piece: counted whole, it took minutes (quadratic merge).
  const runs: [string, string][] = [
    ["one letter", "a"],
    ["CJK without punctuation", "中文"],
    ["emoji", "😀"],
    ["punctuation", "!"],
  ];
  for (const [name, unit] of runs) {
    it(`of ${name} is close to the count of a short run scaled to its length`, () => {
      const short = unit.repeat(Math.floor(MAX_PIECE_CHARS / unit.length));
      const huge = unit.repeat(Math.floor(250_000 / unit.length));
      expect(huge.length).toBeLessThanOrEqual(COUNT_LIMIT_CHARS);
      const scaled = (plain(short) * huge.length) / short.length;
      expect(Math.abs(countTextTokens(huge) - scaled) / scaled).toBeLessThan(0.02);
    });
  }

  it("inside ordinary text leaves the count of the text around it exact", () => {
    const before = corpus["TypeScript source"]!;
    const after = corpus.Russian!;
    const run = "z".repeat(200_000);
    const expectedRun = countTextTokens(run);
    // The run is one piece with the space in front of it; the texts around it keep their own counts.
    const text = `${before} ${run}\n${after}`;
    expect(text.length).toBeLessThanOrEqual(COUNT_LIMIT_CHARS);
    const total = countTextTokens(text);
    expect(Math.abs(total - (plain(before) + expectedRun + plain(`\n${after}`)))).toBeLessThanOrEqual(2);
  });

  it("of random letters stays within 1% of the exact count", () => {
    let state = 7;
    const letters = Array.from({ length: 6_000 }, () =>
      String.fromCharCode(97 + ((state = (state * 48271) % 2147483647) % 26)),
    ).join("");
    const exact = plain(letters);
    expect(Math.abs(countTextTokens(letters) - exact) / exact).toBeLessThan(0.01);
  });
});

describe("a counter's budget", () => {
  it("counts what fits and estimates the rest from its UTF-8 size, saying so", () => {
    const counter = new TokenCounter(1_000);
    const small = "Say hello to the proxy.";
    expect(counter.text(small)).toBe(plain(small));
    expect(counter.estimated).toBe(false);
    const big = "é".repeat(2_000);
    expect(counter.text(big)).toBe(estimateTokensFromSize(big));
    expect(estimateTokensFromSize(big)).toBe(1_000); // 4,000 UTF-8 bytes at 4 bytes a token
    expect(counter.estimated).toBe(true);
  });

  it("is shared by the texts it counts, so their cost adds up to at most the budget", () => {
    const counter = new TokenCounter(100);
    const sixty = "word ".repeat(12);
    expect(counter.text(sixty)).toBe(plain(sixty));
    expect(counter.text(sixty)).toBe(estimateTokensFromSize(sixty));
    expect(counter.estimated).toBe(true);
  });

  it("estimates a text over the per-call limit instead of counting it", () => {
    const huge = "b".repeat(COUNT_LIMIT_CHARS + 1);
    expect(countTextTokens(huge)).toBe(estimateTokensFromSize(huge));
  });
});

describe("the one-pass check for long pieces", () => {
  /** Texts made of runs of characters of every class the pre-tokenizer tells apart, some runs long. */
  const runs = fc.array(
    fc.record({
      unit: fc.constantFrom(
        "a",
        "Z",
        "é",
        "中",
        "\u0301",
        "!",
        "/",
        "-",
        " ",
        "\t",
        "\n",
        "\r\n",
        "\u3000",
        "\u00a0",
        "7",
        "٣",
        "😀",
        "'s",
        "/\n",
        "!\u0301",
      ),
      times: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 100, max: 700 })),
    }),
    { minLength: 1, maxLength: 12 },
  );

  it("never misses a piece longer than the limit, and the count of a text without one is gpt-tokenizer's", () => {
    const tokenizer = gptTokenizer();
    fc.assert(
      fc.property(runs, (parts) => {
        const text = parts.map((p) => p.unit.repeat(p.times)).join("");
        const longest = Math.max(0, ...[...text.matchAll(tokenizer.pieces())].map((m) => m[0].length));
        if (longest > MAX_PIECE_CHARS) expect(mayHoldLongPiece(text)).toBe(true);
        else expect(countTextTokens(text)).toBe(plain(text));
      }),
      { numRuns: 300, seed: 16 },
    );
  });

  it("lets ordinary text through without a second look", () => {
    for (const name of ["aider request (every message)", "TypeScript source", "markdown docs", "Russian", "emoji"]) {
      expect(mayHoldLongPiece(corpus[name]!), name).toBe(false);
    }
  });
});
