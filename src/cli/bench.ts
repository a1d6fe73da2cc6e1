/**
 * `llm-relay bench`: replays recorded exchanges against candidate models
 * and compares them with the original answers; `bench report RUN_ID` and
 * `bench list` read the stored runs. See the README's CLI reference. The
 * command's flags are defined in bench-command.ts, which imports this
 * module only when one of the three runs.
 */
import { renderTable } from "./text-table.js";
import fs from "node:fs";
import path from "node:path";
import { ConfigError, loadConfig, type RelayConfig } from "../config/load.js";
import { createClient } from "../library/client.js";
import { formatPlan } from "../bench/plan.js";
import { progressFor } from "../bench/progress.js";
import { renderHtmlReport } from "../bench/report/html.js";
import { formatTerminalReport } from "../bench/report/terminal.js";
import { runBench } from "../bench/runner.js";
import { ChecksFileError, readChecksFile } from "../bench/scores/checks.js";
import { SelectionError } from "../bench/selection.js";
import { createRun, loadRun, planRun, runReport } from "../bench/session.js";
import { BenchStore } from "../bench/storage/bench-store.js";
import type { BenchCase, BenchRun, CheckSpec, RunSettings, SelectionFilters } from "../bench/types.js";
import { DEFAULT_CHECKS_FILE, type BenchFlags, type BenchListFlags, type ReportFlags } from "./bench-command.js";

/** A user error: printed as `llm-relay: <message>`, exit status 1. */
class UsageError extends Error {}

/** `bench`: a new run (or `--resume`, or `--dry-run`); sets the exit status. */
export function benchCommand(flags: BenchFlags): Promise<void> {
  return exitOn(() => runBenchCommand(flags));
}

/** `bench report RUN_ID`; sets the exit status. */
export function benchReportCommand(runId: string, flags: ReportFlags): Promise<void> {
  return exitOn(() => runReportCommand(runId, flags));
}

/** `bench list`; sets the exit status. */
export function benchListCommand(flags: BenchListFlags): Promise<void> {
  return exitOn(() => runListCommand(flags));
}

/** Runs a command, turning user errors into `llm-relay: …` and exit status 1. */
async function exitOn(command: () => number | Promise<number>): Promise<void> {
  try {
    process.exitCode = await command();
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof ConfigError ||
      error instanceof ChecksFileError ||
      error instanceof SelectionError
    ) {
      process.stderr.write(`llm-relay: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

function config(flags: { config?: string; db?: string }): RelayConfig {
  return loadConfig({ ...(flags.config ? { configPath: flags.config } : {}), ...(flags.db ? { db: flags.db } : {}) });
}

function openStore(dbPath: string): BenchStore {
  if (!fs.existsSync(dbPath)) throw new UsageError(`no database at ${dbPath} (nothing recorded yet?)`);
  return BenchStore.open(dbPath);
}

function checksOf(flags: BenchFlags): CheckSpec[] {
  if (flags.checks) return readChecksFile(path.resolve(flags.checks));
  const implicit = path.resolve(DEFAULT_CHECKS_FILE);
  return fs.existsSync(implicit) ? readChecksFile(implicit) : [];
}

/** `bench` (and `bench --resume`). Returns the exit status: 0, or 130 when interrupted. */
export async function runBenchCommand(flags: BenchFlags): Promise<number> {
  const relayConfig = config(flags);
  const store = openStore(relayConfig.dbPath);
  try {
    let run: BenchRun;
    let cases: BenchCase[];
    if (flags.resume) {
      const loaded = loadRun(store, flags.resume);
      if (!loaded) throw new UsageError(`no bench run ${flags.resume} (see llm-relay bench list)`);
      run = loaded.run;
      cases = loaded.selection.cases;
      for (const skip of loaded.selection.skipped)
        process.stderr.write(`llm-relay: case ${skip.id} left out: ${skip.reason}\n`);
      process.stdout.write(
        `resuming bench run ${run.id}: ${store.doneKeys(run.id).size} of ${run.caseIds.length * run.candidates.length * run.settings.repeat} result(s) already stored\n`,
      );
    } else {
      if (!flags.candidates?.length)
        throw new UsageError("--candidates is required (model names separated by commas), or --resume RUN_ID");
      const filters: SelectionFilters = selectionOf(flags);
      const settings: RunSettings = {
        repeat: flags.repeat ?? 1,
        concurrency: flags.concurrency ?? 2,
        maxTokens: flags.maxTokens ?? null,
        temperature: flags.temperature ?? null,
        judge: flags.judge ?? null,
        checks: checksOf(flags),
      };
      const plan = planRun(store, relayConfig, filters, flags.candidates, settings);
      if (flags.dryRun) {
        process.stdout.write(formatPlan(plan));
        return 0;
      }
      const unroutable = plan.candidates.filter((c) => c.routeError !== null);
      if (unroutable.length > 0)
        throw new UsageError(unroutable.map((c) => `candidate ${c.candidate}: ${c.routeError}`).join("; "));
      if (plan.cases.length === 0)
        throw new UsageError(
          `no recorded response matches the selection${plan.skipped.length ? ` (${plan.skipped.length} cannot be replayed)` : ""}`,
        );
      run = createRun(store, plan, filters);
      cases = plan.cases;
      process.stdout.write(
        `bench run ${run.id}: ${cases.length} case(s) × ${run.candidates.length} candidate(s) × ${settings.repeat} repeat(s)` +
          `${filters.sample !== undefined ? ` (sample seed ${filters.seed})` : ""}\n`,
      );
    }
    const outcome = await runWithSignals(relayConfig, store, run, cases, flags.resume ? flags.concurrency : undefined);
    const report = runReport(store, run.id);
    if (report) process.stdout.write(`\n${formatTerminalReport(report)}`);
    if (outcome.interrupted) {
      process.stdout.write(
        `\ninterrupted: ${outcome.remaining} call(s) left; continue with: llm-relay bench --resume ${run.id}\n`,
      );
      return 130;
    }
    return 0;
  } finally {
    store.close();
  }
}

function selectionOf(flags: BenchFlags): SelectionFilters {
  const filters: SelectionFilters = {};
  for (const key of ["model", "since", "until", "conversation", "search", "limit", "sample"] as const) {
    if (flags[key] !== undefined) (filters as Record<string, unknown>)[key] = flags[key];
  }
  if (flags.sample !== undefined) filters.seed = flags.seed ?? Math.floor(Math.random() * 2 ** 31);
  return filters;
}

/** Runs the run's missing tasks; the first SIGINT/SIGTERM stops it cleanly, a second exits at once. */
async function runWithSignals(
  relayConfig: RelayConfig,
  store: BenchStore,
  run: BenchRun,
  cases: BenchCase[],
  concurrency: number | undefined,
) {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\nllm-relay: ${signal}: stopping; finished results are kept (again to quit at once)\n`);
    controller.abort(new Error(`Interrupted by ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const client = createClient({ config: relayConfig });
  try {
    return await runBench({
      client,
      store,
      run,
      cases,
      signal: controller.signal,
      progress: progressFor(process.stdout),
      ...(concurrency !== undefined ? { concurrency } : {}),
    });
  } finally {
    await client.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** `bench report RUN_ID`. */
export function runReportCommand(runId: string, flags: ReportFlags): number {
  const store = openStore(config(flags).dbPath);
  try {
    const report = runReport(store, runId);
    if (!report) throw new UsageError(`no bench run ${runId} (see llm-relay bench list)`);
    if (flags.html) {
      const file = path.resolve(flags.html);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, renderHtmlReport(report));
    }
    if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else
      process.stdout.write(formatTerminalReport(report) + (flags.html ? `\nwrote ${path.resolve(flags.html)}\n` : ""));
    return 0;
  } finally {
    store.close();
  }
}

/** `bench list`. */
export function runListCommand(flags: BenchListFlags): number {
  const store = openStore(config(flags).dbPath);
  try {
    const runs = store.listRuns();
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
      return 0;
    }
    const header = ["run", "created (UTC)", "status", "cases", "results", "errors", "candidates"];
    const rows = runs.map((r) => [
      r.id,
      r.createdUtc.slice(0, 19).replace("T", " "),
      r.status,
      String(r.cases),
      `${r.results}/${r.tasks}`,
      String(r.errors),
      r.candidates.join(", "),
    ]);
    process.stdout.write(rows.length === 0 ? "no bench runs yet\n" : renderTable(header, rows));
    return 0;
  } finally {
    store.close();
  }
}
