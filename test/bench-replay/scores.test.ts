/**
 * The scores on known texts: edit similarity, token F1, aider's
 * file-listing format, the bench.yaml checks, and reading a judge's reply.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checksFromDocument, ChecksFileError, readChecksFile, runChecks } from "../../src/bench/scores/checks.js";
import { editSimilarity, editSimilarityYielding, levenshtein } from "../../src/bench/scores/edit-distance.js";
import { parseFileListings } from "../../src/bench/scores/file-listing.js";
import { parseJudgeReply } from "../../src/bench/scores/judge.js";
import { tokenF1 } from "../../src/bench/scores/token-f1.js";
import { AIDER_ANSWER } from "./helpers/recorded-exchanges.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/bench/bench.yaml", import.meta.url));

describe("similarity", () => {
  it("edit similarity is 1 − Levenshtein / longer length", () => {
    expect(levenshtein(Array.from("kitten"), Array.from("sitting"))).toBe(3);
    expect(editSimilarity("kitten", "sitting")).toBeCloseTo(1 - 3 / 7, 10);
    expect(editSimilarity("same", "same")).toBe(1);
    expect(editSimilarity("", "")).toBe(1);
    expect(editSimilarity("abc", "")).toBe(0);
    // code points, not UTF-16 units: one emoji is one edit
    expect(editSimilarity("🐧a", "🐧b")).toBeCloseTo(0.5, 10);
  });

  it("the yielding edit similarity gives the same figure, and lets other work run while it computes", async () => {
    for (const [a, b] of [
      ["kitten", "sitting"],
      ["", ""],
      ["abc", ""],
      ["🐧a", "🐧b"],
      [AIDER_ANSWER, AIDER_ANSWER.slice(12)],
    ] as const) {
      expect(await editSimilarityYielding(a, b, 1)).toBe(editSimilarity(a, b));
    }
    const long = "the quick brown fox jumps over the lazy dog ".repeat(60);
    const other = long.replace(/o/g, "0");
    let turns = 0;
    let computing = true;
    const tick = (): void => {
      if (!computing) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const similarity = await editSimilarityYielding(long, other, 50_000);
    computing = false;
    expect(similarity).toBe(editSimilarity(long, other));
    // 2640 × 2640 cells in slices of 50 000: the event loop turned between the slices
    expect(turns).toBeGreaterThan(10);
  });

  it("token F1 compares bags of lower-cased words", () => {
    expect(tokenF1("The cat sat", "the CAT sat")).toBe(1);
    // answer: 4 words, reference: 2 words, 2 shared → P = 0.5, R = 1
    expect(tokenF1("paris is nice city", "Paris nice")).toBeCloseTo((2 * 0.5 * 1) / 1.5, 10);
    expect(tokenF1("", "")).toBe(1);
    expect(tokenF1("x", "")).toBe(0);
    expect(tokenF1("a a a", "a")).toBeCloseTo((2 * (1 / 3) * 1) / (1 / 3 + 1), 10);
  });
});

describe("aider's file-listing format", () => {
  it("accepts a path line followed by a closed fenced block", () => {
    expect(parseFileListings(AIDER_ANSWER)).toEqual({ paths: ["src/main.py"], problem: null });
    const two = "Here you go:\n\nsrc/a.py\n```python\nx = 1\n```\n\ntests/test_a.py\n```\nassert True\n```\n";
    expect(parseFileListings(two)).toEqual({ paths: ["src/a.py", "tests/test_a.py"], problem: null });
  });

  it("rejects a block without its path line, with markup around the path, or never closed", () => {
    expect(parseFileListings("Here is the file:\n```\nx = 1\n```\n").problem).toMatch(
      /not preceded by a file name line/,
    );
    expect(parseFileListings("**src/a.py**\n```\nx = 1\n```\n").problem).toMatch(/not preceded by a file name line/);
    expect(parseFileListings("src/a.py\n```\nx = 1\n").problem).toMatch(/never closed/);
    expect(parseFileListings("just words").problem).toMatch(/no file listing/);
  });
});

describe("bench.yaml checks", () => {
  it("reads the fixture and names every check", () => {
    const checks = readChecksFile(FIXTURE);
    expect(checks.map((c) => [c.type, c.name])).toEqual([
      ["file-listing", "aider-format"],
      ["contains", "contains capital"],
      ["regex", "regex /^Note \\d+/"],
      ["is-json", "is-json"],
      ["max-latency-ms", "latency ≤ 450 ms"],
    ]);
  });

  it("runs each check on an answer", () => {
    const checks = readChecksFile(FIXTURE);
    const verdicts = (text: string, totalMs: number) =>
      Object.fromEntries(runChecks(checks, { text, totalMs }).map((c) => [c.name, c.pass]));
    expect(verdicts(AIDER_ANSWER, 100)).toEqual({
      "aider-format": true,
      "contains capital": false,
      "regex /^Note \\d+/": false,
      "is-json": false,
      "latency ≤ 450 ms": true,
    });
    expect(verdicts('{"capital": "Paris"}', 451)).toEqual({
      "aider-format": false,
      "contains capital": true,
      "regex /^Note \\d+/": false,
      "is-json": true,
      "latency ≤ 450 ms": false,
    });
    expect(verdicts("Note 3 is short", 450)).toMatchObject({ "regex /^Note \\d+/": true, "latency ≤ 450 ms": true });
  });

  it("accepts promptfoo's `assert:` key and makes repeated names unique", () => {
    const checks = checksFromDocument({
      assert: [
        { type: "contains", value: "x", ignore_case: true },
        { type: "contains", value: "x" },
      ],
    });
    expect(checks.map((c) => c.name)).toEqual(["contains x", "contains x #2"]);
    expect(runChecks(checks, { text: "X", totalMs: 1 }).map((c) => c.pass)).toEqual([true, false]);
  });

  it("names the file and the entry of an invalid check", () => {
    expect(() => checksFromDocument({ checks: [{ type: "contains" }] }, "b.yaml")).toThrow(ChecksFileError);
    expect(() => checksFromDocument({ checks: [{ type: "contains" }] }, "b.yaml")).toThrow(
      /^Invalid b\.yaml: checks\.0\.value/,
    );
    expect(() => checksFromDocument({ checks: [{ type: "regex", value: "(" }] }, "b.yaml")).toThrow(
      /check 'regex \/\(\/'/,
    );
    expect(() => checksFromDocument({ checks: [{ type: "sounds-good" }] }, "b.yaml")).toThrow(/checks\.0\.type/);
    expect(() => readChecksFile(path.join(path.dirname(FIXTURE), "missing.yaml"))).toThrow(/Cannot read/);
  });
});

describe("judge replies", () => {
  it("reads the grade and rationale from JSON, or from loose text", () => {
    expect(parseJudgeReply('{"grade": 8, "rationale": "Close to the reference."}')).toEqual({
      grade: 8,
      rationale: "Close to the reference.",
    });
    expect(parseJudgeReply('Sure! ```json\n{"grade": "7", "rationale": "ok"}\n```')).toEqual({
      grade: 7,
      rationale: "ok",
    });
    expect(parseJudgeReply("Grade: 6. Decent.").grade).toBe(6);
    expect(parseJudgeReply("I'd say 9/10").grade).toBe(9);
    expect(parseJudgeReply('{"grade": 42, "rationale": "?"}').grade).toBeNull();
    expect(parseJudgeReply("no idea").grade).toBeNull();
  });
});
