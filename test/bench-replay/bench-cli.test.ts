/**
 * `llm-relay bench` end to end, as a user runs it: the real CLI in a child
 * process on a logs.db recorded through the proxy, with a config file
 * routing the candidates to fake models and a bench.yaml in the working
 * directory: the dry-run plan with its catalog estimate, a run stopped with
 * SIGINT and continued with --resume, `bench list`, `bench report` (table,
 * --json, --html) and the answers visible to `llm-relay logs`.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { BenchReport } from "../../src/bench/report/summary.js";
import { lookupModel } from "../../src/catalog/index.js";
import { killAll, outputOf, runCli, spawnCli, withTimeout } from "../helpers/cli.js";
import { rows } from "../helpers/db.js";
import { tempDir } from "../helpers/proxy.js";
import { candidateModels, FAST, SLOW, SLOW_PROFILE, startCandidates, type Candidates } from "./helpers/bench-setup.js";
import { recordFixture, type RecordedFixture } from "./helpers/recorded-exchanges.js";

let fixture: RecordedFixture;
let candidates: Candidates;
let cwd: string;

beforeAll(async () => {
  fixture = await recordFixture();
  candidates = await startCandidates(fixture.exchanges);
  cwd = tempDir("llm-relay-bench-cli-");
  fs.writeFileSync(
    path.join(cwd, "llm-relay.yaml"),
    stringify({ db: fixture.proxy.dbPath, models: candidateModels(candidates) }),
  );
  fs.copyFileSync(
    fileURLToPath(new URL("../fixtures/bench/bench.yaml", import.meta.url)),
    path.join(cwd, "bench.yaml"),
  );
}, 60_000);

afterEach(async () => {
  await killAll();
});

afterAll(async () => {
  await candidates?.close();
  await fixture?.close();
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
});

describe("llm-relay bench", () => {
  it("--dry-run prints the plan and the catalog's cost estimate, and calls nothing", async () => {
    const result = await runCli(["bench", "--candidates", `${FAST},${SLOW}`, "--dry-run"], { cwd, timeoutMs: 20_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("9 case(s) × 2 candidate(s) × 1 repeat(s) = 18 call(s)");
    expect(result.stdout).toContain("checks aider-format, contains capital"); // ./bench.yaml was read
    for (const exchange of fixture.answered) expect(result.stdout).toContain(exchange.id);
    const recorded = rows<{ i: number; o: number }>(
      fixture.proxy.dbPath,
      `select sum(input_tokens) as i, sum(output_tokens) as o from responses where id in (${fixture.answered.map(() => "?").join(",")})`,
      ...fixture.answered.map((e) => e.id),
    )[0]!;
    const price = lookupModel("groq", "llama-3.1-8b-instant")!;
    const usd = (recorded.i * price.inputUsdPerMTok + recorded.o * price.outputUsdPerMTok) / 1e6;
    const fastLine = result.stdout.split("\n").find((line) => line.startsWith(FAST))!;
    expect(fastLine).toContain(`${recorded.i}/${recorded.o}`);
    const estimate = Number(/\$([0-9.]+)$/.exec(fastLine)![1]);
    expect(Math.abs(estimate - usd) / usd).toBeLessThan(0.01); // three significant digits
    expect(result.stdout.split("\n").find((line) => line.startsWith(SLOW))).toMatch(/unknown$/);
    expect(candidates.fast.requests).toHaveLength(0);
    expect(candidates.slow.requests).toHaveLength(0);
  }, 30_000);

  it("refuses a candidate that routes nowhere, naming it", async () => {
    const result = await runCli(["bench", "--candidates", `${SLOW},nowhere`], { cwd, timeoutMs: 20_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/candidate nowhere: .*nowhere/);
  }, 30_000);

  it("stops cleanly on SIGINT, keeps the finished results, and --resume completes the run", async () => {
    const proc = spawnCli(["bench", "--candidates", SLOW, "--concurrency", "1"], { cwd });
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () => (/bench: slow-local 2\/9 cases/.test(proc.stdout()) ? resolve() : undefined);
        proc.child.stdout!.on("data", check);
        check();
      }),
      20_000,
      () => `no progress line\n${outputOf(proc)}`,
    );
    proc.child.kill("SIGINT");
    const exit = await proc.waitForExit(10_000);
    expect(exit.code, outputOf(proc)).toBe(130);
    const runId = /^bench run (\w+):/m.exec(proc.stdout())![1]!;
    expect(proc.stdout()).toContain(`continue with: llm-relay bench --resume ${runId}`);
    expect(proc.stderr()).toMatch(/SIGINT: stopping/);
    const kept = rows<{ n: number }>(
      fixture.proxy.dbPath,
      "select count(*) as n from bench_results where run_id = ?",
      runId,
    )[0]!.n;
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(9);
    expect(
      rows<{ status: string }>(fixture.proxy.dbPath, "select status from bench_runs where id = ?", runId)[0]!.status,
    ).toBe("interrupted");

    const before = candidates.slow.requests.length;
    const resumed = await runCli(["bench", "--resume", runId], { cwd, timeoutMs: 30_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`resuming bench run ${runId}: ${kept} of 9 result(s) already stored`);
    expect(resumed.stdout).toContain(`bench: slow-local ${kept}/9 cases, 0 errors`);
    expect(candidates.slow.requests.length - before).toBe(9 - kept);
    expect(
      rows<{ n: number }>(fixture.proxy.dbPath, "select count(*) as n from bench_results where run_id = ?", runId)[0]!
        .n,
    ).toBe(9);
    // the table after the run
    expect(resumed.stdout).toMatch(
      /candidate\s+ok\/n\s+TTFT p50\s+TTFT p95\s+total p50\s+total p95\s+tok\/s\s+cost\s+errors\s+edit sim\s+token F1\s+aider-format/,
    );
    expect(resumed.stdout).toMatch(new RegExp(`^${SLOW}\\s+9/9\\s+\\d+ ms`, "m"));

    const list = await runCli(["bench", "list"], { cwd });
    expect(list.stdout).toMatch(new RegExp(`^${runId}\\s+\\S+ \\S+\\s+done\\s+9\\s+9/9\\s+0\\s+${SLOW}$`, "m"));

    const json = await runCli(["bench", "report", runId, "--json"], { cwd });
    const report = JSON.parse(json.stdout) as BenchReport;
    expect(report.run).toMatchObject({ id: runId, status: "done", results: 9, tasks: 9 });
    expect(report.candidates).toHaveLength(1);
    expect(report.candidates[0]!.ttftMs.p50).toBeGreaterThanOrEqual(SLOW_PROFILE.firstChunkDelayMs - 2);
    expect(report.cases).toHaveLength(9);

    const html = path.join(cwd, "out", "report.html");
    const table = await runCli(["bench", "report", runId, "--html", html], { cwd });
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`wrote ${html}`);
    expect(fs.readFileSync(html, "utf8")).toContain(`<table class="summary" id="summary">`);

    const logs = await runCli(["logs", "--conversation", report.run.conversations[SLOW]!, "-n", "0"], { cwd });
    expect(logs.code).toBe(0);
    const lines = logs.stdout.trim().split("\n").slice(1);
    expect(lines.length).toBeGreaterThanOrEqual(9); // the 9 answers, and the call cancelled by SIGINT if one was in flight
    expect(lines.filter((line) => /\bok\b/.test(line))).toHaveLength(9);
    for (const line of lines) expect(line).toMatch(new RegExp(`\\b${SLOW}\\b`));
  }, 90_000);

  it("reads the logs.db named by --db after the subcommand (bench list, bench report), without a config", async () => {
    const elsewhere = tempDir("llm-relay-bench-cli-db-");
    const list = await runCli(["bench", "list", "--json", "--db", fixture.proxy.dbPath], { cwd: elsewhere });
    expect(list.code, list.stderr).toBe(0);
    const runs = JSON.parse(list.stdout) as { id: string }[];
    const stored = rows<{ id: string }>(fixture.proxy.dbPath, "select id from bench_runs order by id");
    expect(runs.map((r) => r.id).sort()).toEqual(stored.map((r) => r.id));
    const missing = await runCli(["bench", "report", "01nosuchrun", "--db", fixture.proxy.dbPath], { cwd: elsewhere });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no bench run 01nosuchrun"); // not "no database at <the default logs.db>"
  }, 30_000);

  it("reports a run that does not exist", async () => {
    const result = await runCli(["bench", "report", "01nosuchrun"], { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("no bench run 01nosuchrun");
  }, 30_000);
});
