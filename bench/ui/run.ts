/**
 * `npm run bench:ui`: the conversation browser's queries (issue 21) on a
 * large store — by default 1,000,000 exchanges in 100,000 conversations —
 * on SQLite and PostgreSQL: the time of each page's `BrowseStore` call
 * (what `/ui/api/*` asks), p50 / p95 / max over `--repeats` runs after one
 * warm-up (fewer, but 3, for a query whose runs took `--query-budget-s`), against the target of 100 ms.
 *
 *   npm run bench:ui -- [--exchanges 1000000] [--conversations 100000] [--store sqlite|postgres|both]
 *     [--db bench-results/ui/logs.db] [--database-url URL] [--schema bench_ui] [--reuse] [--repeats 20] [--query-budget-s 30]
 *     [--pg-fill copy|store] [--seed 21] [--batch 1000] [--no-progress] [--out bench-results/ui]
 *
 * Prints the fill (rate, size on disk), a table per store (text and
 * Markdown), and writes <out>/ui-<ISO>.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import postgres from "postgres";
import { openBrowseStore } from "../../src/browse/open.js";
import type { BrowseStore } from "../../src/browse/types.js";
import { parseBenchOptions, USAGE, type BenchOptions } from "./options.js";
import { prepareStore, targetLabel, type Prepared } from "./prepare.js";
import { browseQueries, findFacts, resultRows } from "./queries.js";
import { fillLine, markdownTable, textTable, type QueryLine } from "./report.js";
import type { StoreTarget } from "./stores.js";
import { timeQuery } from "./timing.js";

async function openBrowse(target: StoreTarget): Promise<BrowseStore> {
  return openBrowseStore(
    target.kind === "sqlite" ? { dbPath: target.path } : { databaseUrl: target.url, schema: target.schema },
  );
}

/** Times every query on one store. */
async function benchStore(target: StoreTarget, options: BenchOptions): Promise<QueryLine[]> {
  const store = await openBrowse(target);
  try {
    const facts = await findFacts(store, Math.floor(options.conversations / 2));
    const lines: QueryLine[] = [];
    for (const query of browseQueries(store, facts)) {
      const { timing, result } = await timeQuery(query.run, options.repeats, options.budgetMs);
      lines.push({ label: query.label, rows: resultRows(result), timing });
    }
    return lines;
  } finally {
    await store.close();
  }
}

async function machine(options: BenchOptions): Promise<string> {
  const db = new Database(":memory:");
  const sqlite = (db.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
  db.close();
  let pg = "-";
  const pgTarget = options.targets.find((t) => t.kind === "postgres");
  if (pgTarget) {
    const sql = postgres(pgTarget.url, { max: 1, onnotice: () => undefined });
    try {
      pg = String((await sql`SHOW server_version`)[0]?.server_version ?? "?");
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
  return `node ${process.version}, SQLite ${sqlite}, PostgreSQL ${pg}, ${cpus()[0]?.model ?? "cpu"} ×${cpus().length}`;
}

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const started = new Date();
  const prepared: Prepared[] = [];
  for (const target of options.targets) prepared.push(await prepareStore(target, options));
  const about = await machine(options);
  console.log(
    `bench:ui — ${options.exchanges.toLocaleString("en-US")} exchanges in ${options.conversations.toLocaleString("en-US")} conversations; ${about}; ${options.repeats} runs per query after one warm-up`,
  );
  for (const p of prepared) console.log(fillLine(p));
  const results: { store: string; lines: QueryLine[] }[] = [];
  mkdirSync(options.out, { recursive: true });
  const out = join(options.out, `ui-${started.toISOString().replace(/[:.]/g, "-")}.json`);
  for (const p of prepared) {
    const lines = await benchStore(p.target, options);
    results.push({ store: targetLabel(p.target), lines });
    // Written after each store, so a later failure keeps what was measured.
    const json = {
      bench: "ui",
      startedAt: started.toISOString(),
      machine: about,
      options: { ...options, targets: options.targets.map(targetLabel) },
      prepared: prepared.map((q) => ({ ...q, target: targetLabel(q.target) })),
      results,
    };
    writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`\n${targetLabel(p.target)}\n${textTable(lines)}\n\n${markdownTable(lines)}`);
  }
  console.log(`\nwrote ${out}`);
}

await main();
