/**
 * `npm run bench:recorder:statements`: where the SQLite store's time goes,
 * statement by statement. Exchanges of a bench scenario are assembled
 * first (not measured), then written by the real SqliteStore in batches of
 * `--batch` (500) into a fresh file; every prepared statement of the store is wrapped
 * with a timer. Prints µs per exchange and per call for each statement,
 * and the rest of writeBatch (JavaScript, hashing, the commits).
 *
 *   npm run bench:recorder:statements -- [--scenario continuing|fresh|proxy] [--n 10000] [--batch 500] [--without LIST]
 *
 * `--without` drops parts of the schema after the store created it, to show what each costs (the file is
 * then not a complete logs.db; a measurement only): a comma list of `fts` (llm's two FTS5 triggers),
 * `stats` (the conversation browser's summary triggers), `exchange-indexes` (the five filter indexes of
 * `llm_relay_exchanges`), `daily` (the ledger's per-day summary trigger).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { assembleAndSummarize } from "../../src/recording/record-writer.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { ExchangeRecord, PendingExchange } from "../../src/recording/types.js";
import { exchanges, type ScenarioName } from "./scenarios.js";

const { values: args } = parseArgs({
  options: {
    scenario: { type: "string", default: "continuing" },
    n: { type: "string", default: "10000" },
    without: { type: "string", default: "" },
    batch: { type: "string", default: "500" },
  },
});
/** What `--without` drops: each part's DROP statements. */
const DROPS: Record<string, string> = {
  fts: `DROP TRIGGER responses_ai; DROP TRIGGER turn_search_ai;`,
  stats: `DROP TRIGGER llm_relay_stats_responses_ai; DROP TRIGGER llm_relay_stats_exchanges_bi; DROP TRIGGER llm_relay_stats_exchanges_ai;`,
  "exchange-indexes": ["status", "provider", "protocol", "tenant_id", "key_id"]
    .map((c) => `DROP INDEX llm_relay_idx_exchanges_${c};`)
    .join(" "),
  daily: `DROP TRIGGER llm_relay_usage_daily_ai;`,
};
const without = args.without === "" ? [] : args.without.split(",");
for (const part of without)
  if (!(part in DROPS)) throw new Error(`--without: unknown part ${part} (${Object.keys(DROPS).join(", ")})`);
const scenario = args.scenario as ScenarioName;
const count = Number(args.n);
/** Exchanges per `writeBatch` (the server's batches: what arrives in `flushIntervalMs`, at most `maxBatch`). */
const BATCH = Number(args.batch);
if (!Number.isInteger(BATCH) || BATCH < 1) throw new Error("--batch: a whole number ≥ 1");

/** A prepared statement as the store holds it (run or get). */
type Timed = Record<"run" | "get", (...params: unknown[]) => unknown>;

const source = exchanges(scenario, { conversations: 50, maxTurns: 30 });
const records: ExchangeRecord[] = [];
for (let i = 0; i < count; i++) {
  // Assembled as the record worker does (tokens, cost, billing: a billed record's ledger row is written by the store).
  records.push(assembleAndSummarize(source.next().value as PendingExchange, []).record);
}

const dir = mkdtempSync(join(tmpdir(), "llm-relay-statements-"));
try {
  const store = SqliteStore.open(join(dir, "logs.db"));
  if (without.length > 0) {
    const db = (store as unknown as { db: { exec(sql: string): void } }).db;
    for (const part of without) db.exec(DROPS[part]!);
  }
  const timings = new Map<string, { ms: number; calls: number }>();
  /** Replaces `target[method]` with a timed call, counted under `label`. */
  const time = <K extends string>(
    target: Record<K, (...params: unknown[]) => unknown>,
    method: K,
    label: string,
  ): void => {
    const original = target[method].bind(target);
    target[method] = (...params: unknown[]) => {
      const t0 = performance.now();
      try {
        return original(...params);
      } finally {
        const entry = timings.get(label) ?? { ms: 0, calls: 0 };
        entry.ms += performance.now() - t0;
        entry.calls += 1;
        timings.set(label, entry);
      }
    };
  };
  // The store's statements are private: reach them for measuring only.
  const statements = (store as unknown as { stmts: Record<string, Timed> }).stmts;
  for (const [name, statement] of Object.entries(statements)) {
    for (const method of ["run", "get"] as const) time(statement, method, `${name}.${method}`);
  }
  // The rows of the FTS-indexed tables, inserted at the end of each batch (their triggers fire there).
  const deferred = (store as unknown as { deferred: Record<string, Record<"flush", () => void>> }).deferred;
  for (const [name, rows] of Object.entries(deferred)) time(rows, "flush", `${name} rows (per batch)`);
  // The usage-ledger row of a billed exchange (the `proxy` scenario), in the same transaction.
  const ledger = (store as unknown as { ledger: Record<"insert", (...params: unknown[]) => unknown> }).ledger;
  time(ledger, "insert", "usage ledger row");
  const t0 = performance.now();
  for (let i = 0; i < records.length; i += BATCH) store.writeBatch(records.slice(i, i + BATCH));
  const totalMs = performance.now() - t0;
  store.close();

  const perExchange = (ms: number): string => ((ms * 1000) / count).toFixed(1).padStart(7);
  const inStatements = [...timings.values()].reduce((sum, t) => sum + t.ms, 0);
  console.log(
    `SqliteStore.writeBatch, scenario ${scenario}${without.length > 0 ? ` without ${without.join(", ")}` : ""}, ${count} exchanges in batches of ${BATCH}: ${((count / totalMs) * 1000).toFixed(0)} exchanges/s`,
  );
  console.log(`${"statement".padEnd(28)}  µs/exch  calls/exch  µs/call`);
  for (const [name, t] of [...timings].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(
      `${name.padEnd(28)}  ${perExchange(t.ms)}  ${(t.calls / count).toFixed(2).padStart(10)}  ${((t.ms * 1000) / t.calls).toFixed(1).padStart(7)}`,
    );
  }
  console.log(`${"all statements".padEnd(28)}  ${perExchange(inStatements)}`);
  console.log(`${"rest (JS, hashing, commits)".padEnd(28)}  ${perExchange(totalMs - inStatements)}`);
  console.log(`${"writeBatch in all".padEnd(28)}  ${perExchange(totalMs)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
