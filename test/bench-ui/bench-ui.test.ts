/**
 * `npm run bench:ui` on a small store (2,000 exchanges in 200 conversations):
 * it fills a real SQLite file and a real PostgreSQL schema and prints a line
 * for every page's query on both (no timing is asserted: this keeps the
 * script from rotting).
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/cli.js";
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from "../helpers/pg.js";
import { tempDir } from "../helpers/temp-dirs.js";

const run = promisify(execFile);

/** The start of every query line the bench prints, in order. */
const QUERY_LINES = [
  "conversations: first page",
  "conversations: model = gpt-4o",
  "conversations: tenant = globex, status = error",
  'conversations: search rare word "quixotic"',
  'conversations: search common word "function"',
  "conversations: deep page (after 100 rows)",
  "conversation: 10 turns",
  "conversation: the longest (",
  "exchanges: first page (newest)",
  "exchanges: errors first",
  "exchanges: model = o3-mini",
  "exchanges: tenant = initech, status = cancelled",
  'exchanges: search rare word "quixotic"',
  'exchanges: search common word "function"',
  "exchange: detail",
  "usage: 30 days by model",
  "facets",
];

/** Runs the bench with `args` from the repository root; its stdout. */
async function bench(args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [
      "--import",
      "tsx",
      "bench/ui/run.ts",
      "--exchanges",
      "2000",
      "--conversations",
      "200",
      "--repeats",
      "2",
      "--no-progress",
      ...args,
    ],
    {
      cwd: REPO_ROOT,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, LLM_RELAY_TEST_DATABASE_URL: TEST_DATABASE_URL },
    },
  );
  return stdout;
}

/** The lines of one store's text table (from its title to the blank line). */
function tableOf(stdout: string, title: string): string[] {
  const start = stdout.split("\n").indexOf(title);
  expect(start, `a table titled '${title}'`).toBeGreaterThanOrEqual(0);
  const lines = stdout.split("\n").slice(start + 1);
  return lines.slice(0, lines.indexOf(""));
}

function expectEveryQuery(table: string[]): void {
  expect(table[0]).toMatch(/^query\s+rows\s+runs\s+p50 ms\s+p95 ms\s+max ms\s+target < 100 ms$/);
  const rows = table.slice(2);
  expect(rows).toHaveLength(QUERY_LINES.length);
  QUERY_LINES.forEach((label, i) => {
    expect(rows[i]!.startsWith(label), `line ${i + 1}: ${rows[i]}`).toBe(true);
    expect(rows[i]).toMatch(/\s\d+\s+\d+\s+\d+\.\d+\s+\d+\.\d+\s+\d+\.\d+\s+(met|NOT met)\s*$/);
  });
}

describe("bench:ui", () => {
  let schema: TestSchema | null = null;
  afterEach(async () => {
    await schema?.drop();
    schema = null;
  });

  it("fills SQLite and PostgreSQL (copied from the SQLite file) and prints every query's line for both", async () => {
    schema = await createTestSchema();
    const dir = tempDir();
    const db = path.join(dir, "logs.db");
    const out = path.join(dir, "out");
    const stdout = await bench(["--store", "both", "--db", db, "--schema", schema.name, "--out", out]);

    expect(stdout).toMatch(/^bench:ui — 2,000 exchanges in 200 conversations; node v/m);
    expect(stdout).toMatch(
      new RegExp(
        `^sqlite ${db.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: writeBatch in \\d+ s .* 2,000 exchanges, \\d+ MB on disk$`,
        "m",
      ),
    );
    expect(stdout).toMatch(
      new RegExp(
        `^postgres schema ${schema.name}: copy from SQLite in \\d+ s .* 2,000 exchanges, \\d+ MB on disk$`,
        "m",
      ),
    );
    expectEveryQuery(tableOf(stdout, `sqlite ${db}`));
    expectEveryQuery(tableOf(stdout, `postgres schema ${schema.name}`));
    expect(stdout).toContain("| conversation: 10 turns | 10 | 2 |");
    expect(await schema.count("SELECT 1 FROM llm_relay_exchanges")).toBe(2000);
    expect(await schema.count("SELECT 1 FROM llm_relay_conversation_stats")).toBeGreaterThan(150);

    const reports = readdirSync(out);
    expect(reports).toHaveLength(1);
    const json = JSON.parse(readFileSync(path.join(out, reports[0]!), "utf8")) as { results: { lines: unknown[] }[] };
    expect(json.results.map((r) => r.lines.length)).toEqual([QUERY_LINES.length, QUERY_LINES.length]);

    // --reuse: both stores hold 2,000 exchanges, so nothing is filled again.
    const again = await bench(["--store", "both", "--db", db, "--schema", schema.name, "--out", out, "--reuse"]);
    expect(again).toContain(`sqlite ${db}: reused (2,000 exchanges,`);
    expect(again).toContain(`postgres schema ${schema.name}: reused (2,000 exchanges,`);
  }, 240_000);

  it("prints its options with --help, and fills nothing", async () => {
    const dir = tempDir();
    const db = path.join(dir, "logs.db");
    const stdout = await bench(["--help", "--store", "sqlite", "--db", db, "--out", dir]);
    expect(stdout).toContain("WITHOUT --reuse EVERY STORE NAMED IS EMPTIED AND FILLED AGAIN");
    expect(stdout).toContain("--store postgres --reuse");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("fills PostgreSQL through PgStore.writeBatch with --pg-fill store", async () => {
    schema = await createTestSchema();
    const dir = tempDir();
    const stdout = await bench([
      "--store",
      "postgres",
      "--pg-fill",
      "store",
      "--db",
      path.join(dir, "unused.db"),
      "--schema",
      schema.name,
      "--out",
      dir,
    ]);
    expect(stdout).toMatch(
      new RegExp(`^postgres schema ${schema.name}: writeBatch in \\d+ s .* 2,000 exchanges,`, "m"),
    );
    expectEveryQuery(tableOf(stdout, `postgres schema ${schema.name}`));
    // The records' own API keys, one per key of the three tenants.
    expect(await schema.count("SELECT DISTINCT key_id FROM llm_relay_exchanges")).toBe(5);
    expect(await schema.count("SELECT 1 FROM llm_relay_keys")).toBe(5);
  }, 240_000);
});
