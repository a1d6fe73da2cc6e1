/**
 * `llm-relay logs` as a process: the recorded responses of a logs.db as a
 * table (oldest at the top) or JSON, limited with `-n`, filtered with
 * `--conversation`, each response's cost, and a clear failure when the database does not exist.
 * The exchanges are recorded in-process (echo), then the CLI reads the file.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killAll, runCli, type CliResult } from "../helpers/cli.js";
import { rows } from "../helpers/db.js";
import { chat } from "../helpers/exchanges.js";
import { startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";

interface Response {
  id: string;
  model: string;
  conversation_id: string;
  input_tokens: number;
  output_tokens: number;
  duration_ms: number;
  prompt: string;
}

let proxy: TestProxy;
let dbPath: string;
let cwd: string;
/** Every `responses` row, oldest first. */
let recorded: Response[];
/** The conversation that has two responses. */
let twoTurns: string;

beforeAll(async () => {
  proxy = await startTestProxy();
  cwd = tempDir("llm-relay-cli-");
  // The CLI reads the proxy's own file once the recorder has written it (WAL: readers and the writer coexist).
  dbPath = proxy.dbPath;
  const first = await chat(proxy, { model: "TestModelName", messages: [{ role: "user", content: "first question" }] });
  expect(first.status).toBe(200);
  const second = await chat(proxy, {
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "second question here" }],
  });
  expect(second.status).toBe(200);
  // The first conversation goes on: its history is the first exchange.
  const third = await chat(proxy, {
    model: "TestModelName",
    messages: [
      { role: "user", content: "first question" },
      { role: "assistant", content: "first question" },
      { role: "user", content: "a follow-up" },
    ],
  });
  expect(third.status).toBe(200);
  const fourth = await chat(proxy, {
    model: "other-model",
    stream: true,
    messages: [{ role: "user", content: "fourth one" }],
  });
  expect(fourth.status).toBe(200);
  await proxy.server.ctx.recorder.flush();
  recorded = rows<Response>(
    dbPath,
    "SELECT id, model, conversation_id, input_tokens, output_tokens, duration_ms, prompt FROM responses ORDER BY id",
  );
  expect(recorded.map((r) => r.prompt)).toEqual([
    "first question",
    "second question here",
    "a follow-up",
    "fourth one",
  ]);
  expect(recorded[0]!.conversation_id).toBe(recorded[2]!.conversation_id);
  twoTurns = recorded[0]!.conversation_id;
  expect(new Set(recorded.map((r) => r.conversation_id)).size).toBe(3);
});
afterAll(async () => {
  await proxy?.close();
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
});
afterEach(() => killAll());

function logs(...args: string[]): Promise<CliResult> {
  return runCli(["logs", "--db", dbPath, ...args], { cwd });
}

/** The table's lines, without the trailing empty one. */
function tableLines(stdout: string): string[] {
  expect(stdout.endsWith("\n")).toBe(true);
  return stdout.slice(0, -1).split("\n");
}

/** The line of the table that shows `row` (fails unless exactly one). */
function lineOf(lines: string[], row: Response): string {
  const found = lines.filter((line) => line.includes(row.prompt));
  expect(found, row.prompt).toHaveLength(1);
  return found[0]!;
}

describe("llm-relay logs", () => {
  it("prints a table: a header, then one line per response, oldest first, with model, tokens and conversation", async () => {
    const result = await logs();
    expect(result.code, result.stderr).toBe(0);
    const lines = tableLines(result.stdout);
    expect(lines).toHaveLength(1 + recorded.length);
    const header = lines[0]!.split(/\s{2,}/);
    expect(header).toEqual(["time (UTC)", "model", "tokens in/out", "cost", "ms", "status", "conversation", "prompt"]);
    for (const [i, row] of recorded.entries()) {
      const line = lines[1 + i]!;
      expect(line).toBe(lineOf(lines, row));
      const cells = line.split(/\s{2,}/);
      expect(cells[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      // echo runs locally: its tokens cost nothing.
      expect(cells.slice(1)).toEqual([
        row.model,
        `${row.input_tokens}/${row.output_tokens}`,
        "$0",
        String(row.duration_ms),
        "ok",
        row.conversation_id,
        row.prompt,
      ]);
    }
  });

  it("-n 2 shows the two most recent responses", async () => {
    const result = await logs("-n", "2");
    expect(result.code, result.stderr).toBe(0);
    const lines = tableLines(result.stdout);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(recorded[2]!.prompt);
    expect(lines[2]).toContain(recorded[3]!.prompt);
  });

  it("--json prints an array, newest first, with id, model, conversationId, tokens, durationMs and status", async () => {
    const result = await logs("--json");
    expect(result.code, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout) as Record<string, unknown>[];
    expect(Array.isArray(parsed)).toBe(true);
    expect(parsed.map((entry) => entry.id)).toEqual([...recorded].reverse().map((row) => row.id));
    for (const entry of parsed) {
      const row = recorded.find((r) => r.id === entry.id)!;
      expect(entry).toMatchObject({
        id: row.id,
        model: row.model,
        conversationId: row.conversation_id,
        inputTokens: row.input_tokens,
        outputTokens: row.output_tokens,
        durationMs: row.duration_ms,
        status: "ok",
        costUsd: 0,
      });
      expect(entry.inputTokens).toBeGreaterThan(0);
      expect(entry.outputTokens).toBeGreaterThan(0);
    }
  });

  it("--conversation ID lists only that conversation", async () => {
    const result = await logs("--conversation", twoTurns, "--json");
    expect(result.code, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout) as { id: string; conversationId: string }[];
    expect(parsed.map((entry) => entry.id)).toEqual([recorded[2]!.id, recorded[0]!.id]);
    expect(new Set(parsed.map((entry) => entry.conversationId))).toEqual(new Set([twoTurns]));

    const table = await logs("--conversation", twoTurns);
    expect(table.code, table.stderr).toBe(0);
    const lines = tableLines(table.stdout);
    expect(lines).toHaveLength(3);
    expect(lines.slice(1).every((line) => line.includes(twoTurns))).toBe(true);
  });

  it("a missing database: exit 1, the message names the path, nothing is created", async () => {
    const missing = path.join(cwd, "nowhere", "logs.db");
    const result = await runCli(["logs", "--db", missing], { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(missing);
    expect(result.stdout).toBe("");
    expect(fs.existsSync(missing)).toBe(false);
  });
});
