/**
 * `llm-relay logs` with wide text: a model name and a prompt in CJK with
 * emoji (two terminal columns a character) keep every column aligned under
 * its header, and a long wide prompt is cut to 40 columns between
 * characters (never inside an emoji). Columns are counted here by hand:
 * the CJK ideographs, kana and emoji below take 2, everything else 1.
 */
import fs from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killAll, runCli } from "../helpers/cli.js";
import { rows } from "../helpers/db.js";
import { chat } from "../helpers/exchanges.js";
import { startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";

/** Terminal columns of `text`, for the characters this test uses. */
function columns(text: string): number {
  return [...text].reduce(
    (sum, char) => sum + (/[\u3040-\u30ff\u4e00-\u9fff]|\p{Extended_Pictographic}/u.test(char) ? 2 : 1),
    0,
  );
}

/** The terminal column where each cell of a table line starts (cells are two or more spaces apart). */
function cellStarts(line: string): number[] {
  const starts: number[] = [];
  for (const match of line.matchAll(/(?:^|(?<=\s{2}))\S.*?(?=\s{2}|$)/g))
    starts.push(columns(line.slice(0, match.index)));
  return starts;
}

const WIDE_MODEL = "模型🐧";
const SHORT_PROMPT = "你好🐧世界";
const LONG_PROMPT = "これは長いプロンプトです🐧".repeat(4);

let proxy: TestProxy;
let cwd: string;

beforeAll(async () => {
  proxy = await startTestProxy();
  cwd = tempDir("llm-relay-cli-wide-");
  for (const [model, content] of [
    ["TestModelName", "plain ascii"],
    [WIDE_MODEL, SHORT_PROMPT],
    ["gpt-4o-mini", LONG_PROMPT],
  ] as const) {
    const answer = await chat(proxy, { model, messages: [{ role: "user", content }] });
    expect(answer.status).toBe(200);
  }
  await proxy.server.ctx.recorder.flush();
  expect(rows<{ model: string }>(proxy.dbPath, "SELECT model FROM responses ORDER BY id").map((r) => r.model)).toEqual([
    "TestModelName",
    WIDE_MODEL,
    "gpt-4o-mini",
  ]);
});
afterAll(async () => {
  await proxy?.close();
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
});
afterEach(() => killAll());

describe("llm-relay logs with CJK and emoji", () => {
  it("starts every cell in the column of its header", async () => {
    const result = await runCli(["logs", "--db", proxy.dbPath], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.slice(0, -1).split("\n");
    expect(lines).toHaveLength(4);
    const header = cellStarts(lines[0]!);
    expect(header).toHaveLength(8);
    for (const line of lines.slice(1)) expect(cellStarts(line), line).toEqual(header);
    const wide = lines.find((line) => line.includes(WIDE_MODEL))!;
    expect(wide.endsWith(SHORT_PROMPT)).toBe(true);
    // The model column is as wide as its widest cell in columns: the wide name (6 columns) is shorter than "TestModelName".
    expect(header[2]! - header[1]!).toBe("TestModelName".length + 2);
  });

  it("cuts a long wide prompt to 40 columns, between characters, with …", async () => {
    const result = await runCli(["logs", "--db", proxy.dbPath], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const line = result.stdout.split("\n").find((l) => l.includes("これは"))!;
    const shown = line.slice(line.indexOf("これは"));
    expect(shown.endsWith("…")).toBe(true);
    expect(columns(shown)).toBeLessThanOrEqual(40);
    expect(columns(shown)).toBeGreaterThanOrEqual(39);
    expect(LONG_PROMPT.startsWith(shown.slice(0, -1))).toBe(true);
    expect(shown).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});
