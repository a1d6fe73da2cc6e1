/**
 * `npm run bench:recorder`: exchanges per second the Recorder sustains
 * into a real SQLite logs.db (WAL, batched, both table generations), in
 * the canonical aider conversation shape, against a baseline run in the
 * same process (a plain `INSERT INTO responses` of the same live rows).
 *
 *   npm run bench:recorder -- [--n 20000] [--seconds D] [--scenario continuing|fresh|all]
 *     [--conversations 50] [--max-turns 30] [--batch <Recorder default>] [--flush-ms 50] [--no-baseline] [--keep]
 *
 * Prints a table and writes bench-results/recorder-<ISO>.json.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { pino } from "pino";
import { Recorder } from "../../src/recording/recorder.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { PendingExchange, RecordStore } from "../../src/recording/types.js";
import {
  BaselineStore,
  countRows,
  rowDelta,
  TimedStore,
  type BaselineKind,
  type BatchStats,
  type RowCounts,
} from "./measure.js";
import { exchanges, type ScenarioName, type ScenarioOptions } from "./scenarios.js";

const { values: args } = parseArgs({
  options: {
    n: { type: "string", default: "20000" },
    seconds: { type: "string" },
    scenario: { type: "string", default: "all" },
    conversations: { type: "string", default: "50" },
    "max-turns": { type: "string", default: "30" },
    batch: { type: "string" },
    "flush-ms": { type: "string", default: "50" },
    "no-baseline": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
  },
});

const TARGET_PER_SEC = 20_000;
/** The Recorder's maxBatch: its own default unless --batch is given. */
const maxBatch = args.batch !== undefined ? Number(args.batch) : undefined;
/** Exchanges built and enqueued between two turns of the event loop. */
const CHUNK = 256;
const flushIntervalMs = Number(args["flush-ms"]);
const count = Number(args.n);
const seconds = args.seconds !== undefined ? Number(args.seconds) : null;
const scenarioOptions: ScenarioOptions = {
  conversations: Number(args.conversations),
  maxTurns: Number(args["max-turns"]),
};
const scenarios: ScenarioName[] = args.scenario === "all" ? ["continuing", "fresh"] : [args.scenario as ScenarioName];
const logger = pino({ level: "silent" });

/** One measured run of the Recorder in front of a store. */
interface RunResult {
  store: string;
  exchanges: number;
  seconds: number;
  exchangesPerSec: number;
  rows: number;
  rowsPerSec: number;
  rowsByTable: RowCounts;
  /** Time spent building the exchanges, left out of `seconds`. */
  generateMs: number;
  /** Share of the wall time spent inside writeBatch. */
  storeShare: number;
  dbBytes: number;
  batch: BatchStats;
}

function fileBytes(path: string): number {
  let n = 0;
  for (const suffix of ["", "-wal"]) {
    try {
      n += statSync(path + suffix).size;
    } catch {
      // no such file
    }
  }
  return n;
}

/**
 * A feed of exchanges, built a chunk at a time (as a server would receive
 * them; holding thousands of pre-built ones would load the GC with their
 * stream events). Building time is measured and left out of the rates.
 */
function feed(scenario: ScenarioName): { next(): PendingExchange[] | null; generateMs: number } {
  const gen = exchanges(scenario, scenarioOptions);
  let made = 0;
  let deadline = Number.POSITIVE_INFINITY;
  const state = {
    generateMs: 0,
    next(): PendingExchange[] | null {
      const now = performance.now();
      if (deadline === Number.POSITIVE_INFINITY && seconds !== null) deadline = now + seconds * 1000;
      if (seconds === null ? made >= count : now >= deadline) return null;
      const size = seconds === null ? Math.min(CHUNK, count - made) : CHUNK;
      const chunk: PendingExchange[] = [];
      for (let i = 0; i < size; i++) chunk.push(gen.next().value as PendingExchange);
      made += size;
      state.generateMs += performance.now() - now;
      return chunk;
    },
  };
  return state;
}

/** Enqueues as fast as possible (yielding to the event loop between chunks) and waits until all is flushed. */
async function runOnce(label: string, scenario: ScenarioName, open: (path: string) => RecordStore): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "llm-relay-bench-"));
  const path = join(dir, "logs.db");
  try {
    const store = new TimedStore(open(path));
    const before = countRows(path);
    const recorder = new Recorder(store, logger, { flushIntervalMs, ...(maxBatch !== undefined ? { maxBatch } : {}) });
    const source = feed(scenario);
    let enqueued = 0;
    const t0 = performance.now();
    for (let chunk = source.next(); chunk; chunk = source.next()) {
      for (const record of chunk) recorder.enqueue(record);
      enqueued += chunk.length;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await recorder.flush();
    const wall = (performance.now() - t0 - source.generateMs) / 1000;
    if (recorder.failedWrites > 0) throw new Error(`${label}: ${recorder.failedWrites} records failed`);
    const dbBytes = fileBytes(path);
    await store.close();
    const delta = rowDelta(before, countRows(path));
    const batch = store.stats();
    if (args.keep) console.log(`kept ${path}`);
    return {
      store: label,
      exchanges: enqueued,
      seconds: wall,
      exchangesPerSec: enqueued / wall,
      rows: delta.total,
      rowsPerSec: delta.total / wall,
      rowsByTable: delta.byTable,
      generateMs: source.generateMs,
      storeShare: batch.commitMsTotal / 1000 / wall,
      dbBytes,
      batch,
    };
  } finally {
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
  }
}

function sqliteVersion(): string {
  const db = new Database(":memory:");
  try {
    return (db.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
  } finally {
    db.close();
  }
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

function printTable(results: { scenario: ScenarioName; runs: RunResult[] }[]): void {
  const header = [
    "scenario",
    "store",
    "exchanges",
    "exch/s",
    "store exch/s",
    "rows/s",
    "rows/exch",
    "vs baseline",
    "batches",
    "mean size",
    "p50 ms",
    "p99 ms",
    "max ms",
    "in store",
    "MB",
  ];
  const rows: string[][] = [];
  for (const { scenario, runs } of results) {
    const base = runs.find((r) => r.store === "baseline:responses");
    for (const r of runs) {
      rows.push([
        scenario,
        r.store,
        fmt(r.exchanges),
        fmt(r.exchangesPerSec),
        r.batch.commitMsTotal > 0 ? fmt(r.exchanges / (r.batch.commitMsTotal / 1000)) : "-",
        fmt(r.rowsPerSec),
        fmt(r.rows / r.exchanges, 2),
        base ? `${fmt(r.exchangesPerSec / base.exchangesPerSec, 2)}×` : "-",
        fmt(r.batch.batches),
        fmt(r.batch.meanSize, 1),
        fmt(r.batch.commitMsP50, 2),
        fmt(r.batch.commitMsP99, 2),
        fmt(r.batch.commitMsMax, 2),
        `${fmt(r.storeShare * 100)}%`,
        fmt(r.dbBytes / 1e6, 1),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  const started = new Date();
  const results: { scenario: ScenarioName; runs: RunResult[] }[] = [];
  const baselines: BaselineKind[] = args["no-baseline"] ? [] : ["responses", "responses-nofts", "null"];
  for (const scenario of scenarios) {
    const runs: RunResult[] = [];
    runs.push(await runOnce("sqlite-store", scenario, (p) => SqliteStore.open(p)));
    for (const kind of baselines) {
      runs.push(await runOnce(`baseline:${kind}`, scenario, (p) => new BaselineStore(p, kind)));
    }
    results.push({ scenario, runs });
  }

  console.log(
    `recorder bench: node ${process.version}, SQLite ${sqliteVersion()}, ${cpus()[0]?.model ?? "cpu"} ×${cpus().length}; ` +
      `${seconds !== null ? `${seconds} s per run` : `${fmt(count)} exchanges per run`}, batch ≤ ${maxBatch ?? "Recorder default"}, ` +
      `${scenarioOptions.conversations} conversations × ≤ ${scenarioOptions.maxTurns} turns (continuing)`,
  );
  printTable(results);
  console.log(
    "exch/s excludes building the exchanges; store exch/s = exchanges / time inside writeBatch; baseline:null = the Recorder alone (assembly of the raw stream, logging) with a store that writes nothing.",
  );
  for (const { scenario, runs } of results) {
    const store = runs.find((r) => r.store === "sqlite-store");
    if (!store) continue;
    const by = Object.entries(store.rowsByTable)
      .map(([t, n]) => `${t} ${fmt(n / store.exchanges, 2)}`)
      .join(", ");
    const verdict = store.exchangesPerSec >= TARGET_PER_SEC ? "meets" : "misses";
    console.log(`${scenario}: rows per exchange: ${by}; ${verdict} the target of ${fmt(TARGET_PER_SEC)} exchanges/s`);
  }

  mkdirSync("bench-results", { recursive: true });
  const out = join("bench-results", `recorder-${started.toISOString().replace(/[:.]/g, "-")}.json`);
  const json = {
    bench: "recorder",
    startedAt: started.toISOString(),
    node: process.version,
    sqlite: sqliteVersion(),
    cpu: cpus()[0]?.model ?? null,
    cpus: cpus().length,
    options: { count: seconds === null ? count : null, seconds, maxBatch, flushIntervalMs, ...scenarioOptions },
    targetExchangesPerSec: TARGET_PER_SEC,
    results,
  };
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

await main();
