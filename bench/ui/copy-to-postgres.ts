/**
 * Copies a filled SQLite logs.db into a PostgreSQL schema made by
 * `PgStore.open`, table by table (parents first, rows in insertion order,
 * multi-row INSERTs), so PostgreSQL's own triggers (the usage ledger's
 * running totals, the browser's conversation stats and daily roll-up) and
 * indexes run on every row as they do when `PgStore.writeBatch` writes it.
 *
 * Why not `PgStore.writeBatch`: on this 2-core machine, shared with other
 * work, it wrote 200–420 exchanges/s (about 12 statements per exchange in
 * one transaction, and the ledger's advisory locks serialise concurrent
 * writers), so 1,000,000 exchanges would take 40–80 minutes. Both stores
 * build their rows with the same `exchangeRows` (the store-contract test
 * compares them), so the copy holds the rows the PostgreSQL store writes,
 * but for generated ids (threads, parts). `--pg-fill store` fills through
 * `PgStore.writeBatch` instead.
 *
 * One trigger is paused: the ledger's running totals (`llm_relay_usage_totals`,
 * 0.7–1.4 ms a row here: 20 minutes for 1,000,000 rows). The copy takes the
 * totals SQLite computed (the same sums, over the same `(created_at, id)`
 * order); the daily roll-up trigger on the ledger runs.
 */
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import cliProgress from "cli-progress";
import postgres from "postgres";

/** The tables the record and usage stores write, parents before children. */
export const COPIED_TABLES = [
  "conversations",
  "messages",
  "parts",
  "threads",
  "turns",
  "turn_search",
  "responses",
  "llm_relay_exchanges",
  "llm_relay_attempts",
  "llm_relay_reply_aliases",
  "llm_relay_keys",
  "llm_relay_usage",
] as const;

/** Most bind parameters of one INSERT (PostgreSQL's limit is 65,535). */
const MAX_PARAMS = 60_000;

type Convert = (value: unknown) => unknown;

/** SQLite's value as the PostgreSQL column's type takes it. */
function converter(pgType: string): Convert {
  switch (pgType) {
    case "boolean":
      return (v) => (v === null || v === undefined ? null : v !== 0 && v !== "0" && v !== false);
    case "jsonb":
    case "json":
      return (v) => (typeof v === "string" ? (JSON.parse(v) as unknown) : (v ?? null));
    case "text":
      // SQLite may hand a number for a column PostgreSQL declares as text.
      return (v) => (v === null || v === undefined ? null : typeof v === "string" ? v : JSON.stringify(v));
    default:
      return (v) => v ?? null;
  }
}

/** Rows copied per table, and the time it took (ms). */
export type CopyCounts = Record<string, { rows: number; ms: number }>;

/**
 * Copies {@link COPIED_TABLES} from the SQLite file at `path` into the (empty) tables of `sql`'s schema.
 * @param sql a connection whose `search_path` is the target schema
 * @throws the database error of a failed INSERT
 */
export async function copySqliteToPostgres(
  path: string,
  sql: postgres.Sql,
  schema: string,
  progress: boolean,
): Promise<CopyCounts> {
  const db = new Database(path, { readonly: true });
  const counts: CopyCounts = {};
  try {
    for (const table of COPIED_TABLES) {
      const pgColumns = await sql<{ column_name: string; data_type: string }[]>`
        SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ${schema} AND table_name = ${table}`;
      const pgTypes = new Map(pgColumns.map((c) => [c.column_name, c.data_type]));
      const columns = (db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[])
        .map((c) => c.name)
        .filter((name) => pgTypes.has(name));
      const converts = columns.map((c) => converter(pgTypes.get(c)!));
      const started = performance.now();
      const total = (db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;
      const chunk = Math.max(1, Math.min(1000, Math.floor(MAX_PARAMS / columns.length)));
      const bar = progress
        ? new cliProgress.SingleBar(
            {
              format: `copy ${table.padEnd(24)} [{bar}] {value}/{total} rows, eta {eta_formatted}`,
              stream: process.stderr,
              noTTYOutput: true,
              notTTYSchedule: 10_000,
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
      bar?.start(total, 0);
      const pausedTrigger = table === "llm_relay_usage" ? "llm_relay_usage_totals" : null;
      if (pausedTrigger) await sql.unsafe(`ALTER TABLE "${table}" DISABLE TRIGGER "${pausedTrigger}"`);
      const select = db
        .prepare(`SELECT ${columns.map((c) => `"${c}"`).join(", ")} FROM "${table}" ORDER BY rowid`)
        .raw();
      let rows: Record<string, unknown>[] = [];
      let done = 0;
      const flush = async (): Promise<void> => {
        if (rows.length === 0) return;
        await sql`INSERT INTO ${sql(table)} ${sql(rows as never, ...columns)}`;
        done += rows.length;
        rows = [];
        bar?.update(done);
      };
      for (const values of select.iterate() as Iterable<unknown[]>) {
        const row: Record<string, unknown> = {};
        for (let i = 0; i < columns.length; i++) row[columns[i]!] = converts[i]!(values[i]);
        rows.push(row);
        if (rows.length >= chunk) await flush();
      }
      await flush();
      bar?.stop();
      if (pausedTrigger) await sql.unsafe(`ALTER TABLE "${table}" ENABLE TRIGGER "${pausedTrigger}"`);
      // Identity columns given explicit values: move their sequences past them.
      if (pgTypes.get("id") === "bigint") {
        await sql.unsafe(
          `SELECT setval(pg_get_serial_sequence('"${table}"', 'id'), (SELECT max(id) FROM "${table}")) WHERE pg_get_serial_sequence('"${table}"', 'id') IS NOT NULL AND EXISTS (SELECT 1 FROM "${table}")`,
        );
      }
      counts[table] = { rows: done, ms: Math.round(performance.now() - started) };
    }
  } finally {
    db.close();
  }
  return counts;
}
