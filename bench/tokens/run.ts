/**
 * `npm run bench:tokens`: what a token count costs on the inputs of issue
 * 16's failure 3 (a 200 KB prompt of one letter, a 30 MB streamed letter
 * run), before (gpt-tokenizer called on the whole text) and after
 * (src/tokens/: pieces counted in slices, a per-call character budget past
 * which the size estimate is used), and the cost on ordinary text.
 *
 *   npm run bench:tokens -- [--plain-sizes 12500,25000,50000]
 *
 * "Before" is measured on short runs only (it is quadratic: minutes for
 * 200 KB on a slow machine) and extrapolated by a quadratic fit through the
 * largest measured size. Runs for well under a minute.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { countTokens } from "gpt-tokenizer";
import { COUNT_LIMIT_CHARS, countTextTokens, EVENT_LOOP_COUNT_LIMIT_CHARS } from "../../src/tokens/count.js";
import { countPiecewise, mayHoldLongPiece } from "../../src/tokens/piecewise-count.js";

const { values: args } = parseArgs({ options: { "plain-sizes": { type: "string", default: "12500,25000,50000" } } });
const plainSizes = args["plain-sizes"].split(",").map(Number);
const plain = (text: string) => countTokens(text, { disallowedSpecial: new Set() });

/** Milliseconds `fn` takes (best of `repeat`), with its result. */
function time<T>(fn: () => T, repeat = 1): { ms: number; result: T } {
  let best = Infinity;
  let result!: T;
  for (let i = 0; i < repeat; i++) {
    const started = performance.now();
    result = fn();
    best = Math.min(best, performance.now() - started);
  }
  return { ms: best, result };
}

const rows: { case: string; ms: string; tokens: number; note: string }[] = [];
const row = (name: string, ms: number, tokens: number, note = "") =>
  rows.push({ case: name, ms: ms.toFixed(ms < 10 ? 2 : 0), tokens, note });

plain("warm up");
countTextTokens("warm up");

// Before: gpt-tokenizer on one run of `a` (one pre-tokenizer piece), growing sizes.
let fit = { size: 1, ms: 0 };
for (const size of plainSizes) {
  const run = "a".repeat(size);
  const { ms, result } = time(() => plain(run));
  row(`before: gpt-tokenizer, ${size.toLocaleString("en")} × "a"`, ms, result, "measured");
  fit = { size, ms };
}
const extrapolate = (size: number) => fit.ms * (size / fit.size) ** 2;
row(
  `before: gpt-tokenizer, 200,000 × "a"`,
  extrapolate(200_000),
  25_000,
  `quadratic fit from ${fit.size.toLocaleString("en")}`,
);
row(
  `before: gpt-tokenizer, 30,000,000 × "a"`,
  extrapolate(30_000_000),
  3_750_000,
  `quadratic fit from ${fit.size.toLocaleString("en")}`,
);

// After.
const run200k = "a".repeat(200_000);
const run30m = "a".repeat(30_000_000);
let measured: { ms: number; result: number } = time(() => countTextTokens(run200k, EVENT_LOOP_COUNT_LIMIT_CHARS), 5);
row(
  `after: event loop (admission tpm, echo), 200,000 × "a"`,
  measured.ms,
  measured.result,
  `over ${EVENT_LOOP_COUNT_LIMIT_CHARS.toLocaleString("en")} chars: size estimate`,
);
measured = time(() => countTextTokens(run200k), 5);
row(`after: worker/library count, 200,000 × "a"`, measured.ms, measured.result, "counted in 256-char slices");
measured = time(() => countTextTokens(run30m));
row(
  `after: worker/library count, 30,000,000 × "a"`,
  measured.ms,
  measured.result,
  `over ${COUNT_LIMIT_CHARS.toLocaleString("en")} chars: size estimate`,
);
measured = time(() => countPiecewise(run30m));
row(`after: piecewise count (no budget), 30,000,000 × "a"`, measured.ms, measured.result, "linear");
let seed = 1;
const randomLetters = Array.from({ length: 1_000_000 }, () =>
  String.fromCharCode(97 + ((seed = (seed * 48271) % 2147483647) % 26)),
).join("");
measured = time(() => countPiecewise(randomLetters));
row(
  `after: piecewise count, 1,000,000 random letters (no cache hits)`,
  measured.ms,
  measured.result,
  "worst case of the slices",
);

// Ordinary text: the aider request's messages and this repo's docs, repeated to 1 MB.
const aider = JSON.parse(
  readFileSync(new URL("../../../shared/fixtures/aider-chat-request.json", import.meta.url), "utf8"),
) as { messages: { content: string }[] };
const docs = readFileSync(new URL("../../docs/ARCHITECTURE.md", import.meta.url), "utf8");
const ordinary = `${aider.messages.map((m) => m.content).join("\n")}\n${docs}`;
const megabyte = ordinary.repeat(Math.ceil(1_000_000 / ordinary.length));
// Interleaved, best of 5 each: the machine's noise (GC of the tokenizer's tables) is larger than the difference.
let before = { ms: Infinity, result: 0 };
let after = { ms: Infinity, result: 0 };
for (let i = 0; i < 5; i++) {
  const b = time(() => plain(megabyte));
  const a = time(() => countPiecewise(megabyte));
  if (b.ms < before.ms) before = b;
  if (a.ms < after.ms) after = a;
}
row(`ordinary text, ${megabyte.length.toLocaleString("en")} chars: gpt-tokenizer`, before.ms, before.result, "before");
row(
  `ordinary text, ${megabyte.length.toLocaleString("en")} chars: piecewise count`,
  after.ms,
  after.result,
  after.result === before.result ? "same count" : "COUNT DIFFERS",
);
const check = time(() => mayHoldLongPiece(megabyte), 5);
row(
  `ordinary text, ${megabyte.length.toLocaleString("en")} chars: the long-piece check alone`,
  check.ms,
  0,
  check.result ? "found a long run" : "no long run: one tokenizer call",
);

console.table(rows);
