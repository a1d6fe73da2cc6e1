/**
 * The command line of `npm run bench:ui`:
 *
 *   npm run bench:ui -- [--exchanges 1000000] [--conversations 100000] [--store sqlite|postgres|both]
 *     [--db bench-results/ui/logs.db] [--database-url URL] [--schema bench_ui] [--reuse] [--repeats 20] [--query-budget-s 30]
 *     [--pg-fill copy|store] [--seed 21] [--batch 1000] [--no-progress] [--out bench-results/ui]
 */
import { parseArgs } from "node:util";
import type { StoreTarget } from "./stores.js";

/** What `--help` prints. */
export const USAGE = `npm run bench:ui -- [options]   (node --import tsx bench/ui/run.ts [options])

Fills a store with synthetic exchanges and times the conversation browser's queries (BrowseStore) on it.
WITHOUT --reuse EVERY STORE NAMED IS EMPTIED AND FILLED AGAIN (the SQLite file deleted, the schema dropped).

  --exchanges N          exchanges to fill (default 1000000)
  --conversations N      conversations they form (default 100000)
  --store S              sqlite | postgres | both (default both)
  --db FILE              the SQLite logs.db; also the source of --pg-fill copy (default bench-results/ui/logs.db)
  --database-url URL     the PostgreSQL server (default $LLM_RELAY_TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test)
  --schema NAME          the PostgreSQL schema (default bench_ui)
  --reuse                keep a store that already holds --exchanges exchanges (time only)
  --repeats N            timed runs per query after one warm-up (default 20)
  --query-budget-s S     stop repeating a query once its runs took S seconds, after 3 runs (default 30)
  --pg-fill M            copy (from the SQLite file, default) | store (PgStore.writeBatch, slow)
  --seed N               seed of the synthetic data (default 21)
  --batch N              exchanges per writeBatch (default 1000)
  --no-progress          no progress bars
  --out DIR              folder of the JSON report (default bench-results/ui)
  --help                 this text

Time only PostgreSQL on a filled schema: --store postgres --reuse`;

/** The bench's settings. */
export interface BenchOptions {
  exchanges: number;
  conversations: number;
  targets: StoreTarget[];
  /** The SQLite file (`--db`): a target, and the source PostgreSQL is copied from with `--pg-fill copy`. */
  sqlitePath: string;
  /** How PostgreSQL is filled: `copy` from the SQLite file (default), or `store` through `PgStore.writeBatch`. */
  pgFill: "copy" | "store";
  /** Skip the fill of a store that already holds `exchanges` recorded exchanges. */
  reuse: boolean;
  /** Timed runs of each query after one warm-up run. */
  repeats: number;
  /** A query stops repeating once its timed runs took this long (ms; at least 3 runs). */
  budgetMs: number;
  seed: number;
  /** Exchanges per `writeBatch`. */
  batch: number;
  progress: boolean;
  /** Folder of the JSON report. */
  out: string;
  /** Print {@link USAGE} and do nothing else. */
  help: boolean;
}

const DEFAULT_DATABASE_URL = process.env.LLM_RELAY_TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer (got '${value}')`);
  return n;
}

/**
 * Reads the options from `argv` (without node and the script).
 * @throws Error naming the option for a value out of range or an unknown option
 */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      exchanges: { type: "string", default: "1000000" },
      conversations: { type: "string", default: "100000" },
      store: { type: "string", default: "both" },
      db: { type: "string", default: "bench-results/ui/logs.db" },
      "database-url": { type: "string", default: DEFAULT_DATABASE_URL },
      schema: { type: "string", default: "bench_ui" },
      reuse: { type: "boolean", default: false },
      repeats: { type: "string", default: "20" },
      "query-budget-s": { type: "string", default: "30" },
      seed: { type: "string", default: "21" },
      batch: { type: "string", default: "1000" },
      "no-progress": { type: "boolean", default: false },
      "pg-fill": { type: "string", default: "copy" },
      out: { type: "string", default: "bench-results/ui" },
      help: { type: "boolean", default: false },
    },
  });
  const store = values.store;
  if (store !== "sqlite" && store !== "postgres" && store !== "both") {
    throw new Error(`--store must be sqlite, postgres or both (got '${store}')`);
  }
  const pgFill = values["pg-fill"];
  if (pgFill !== "copy" && pgFill !== "store") throw new Error(`--pg-fill must be copy or store (got '${pgFill}')`);
  const targets: StoreTarget[] = [];
  if (store !== "postgres") targets.push({ kind: "sqlite", path: values.db });
  if (store !== "sqlite") targets.push({ kind: "postgres", url: values["database-url"], schema: values.schema });
  return {
    exchanges: positive("exchanges", values.exchanges),
    conversations: positive("conversations", values.conversations),
    targets,
    sqlitePath: values.db,
    pgFill,
    reuse: values.reuse,
    repeats: positive("repeats", values.repeats),
    budgetMs: positive("query-budget-s", values["query-budget-s"]) * 1000,
    seed: positive("seed", values.seed),
    batch: positive("batch", values.batch),
    progress: !values["no-progress"],
    out: values.out,
    help: values.help,
  };
}
