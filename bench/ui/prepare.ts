/**
 * Makes each store hold the asked exchanges: reused when it already holds
 * exactly that many (`--reuse`), else emptied, given the tenants' API keys,
 * and filled through its record store (SQLite), or copied from the SQLite
 * file (PostgreSQL, `--pg-fill copy`: see copy-to-postgres.ts); then PostgreSQL is ANALYZEd and
 * SQLite left without statistics, as a proxy leaves them (`analyze` in stores.ts).
 */
import { performance } from "node:perf_hooks";
import postgres from "postgres";
import { copySqliteToPostgres } from "./copy-to-postgres.js";
import { fill } from "./fill.js";
import type { BenchOptions } from "./options.js";
import { makePlan } from "./plan.js";
import { planRecords } from "./records.js";
import {
  analyze,
  createKeys,
  openRecordStore,
  recordedExchanges,
  schemaUrl,
  sizeOnDisk,
  wipe,
  type StoreTarget,
} from "./stores.js";

/** The plan's span: exchanges start within the last 90 days. */
export const SPAN_MS = 90 * 86_400_000;

/** What preparing one store gave. */
export interface Prepared {
  target: StoreTarget;
  /** How it was filled; null when it was reused. */
  method: "writeBatch" | "copy from SQLite" | null;
  /** Wall time of the fill (plan, records, writes; or the copy), ms; null when reused. */
  fillMs: number | null;
  /** Time inside `writeBatch`, ms (null for a copy or a reused store). */
  writeMs: number | null;
  bytes: number;
  exchanges: number;
}

/** A store's name in the report. */
export function targetLabel(target: StoreTarget): string {
  return target.kind === "sqlite" ? `sqlite ${target.path}` : `postgres schema ${target.schema}`;
}

/** Fills an emptied store through its record store's `writeBatch`. */
async function fillThroughStore(target: StoreTarget, options: BenchOptions): Promise<number> {
  const keys = await createKeys(target);
  const plan = makePlan({
    exchanges: options.exchanges,
    conversations: options.conversations,
    seed: options.seed,
    endMs: Date.now(),
    spanMs: SPAN_MS,
  });
  const store = await openRecordStore(target);
  try {
    const [result] = await fill([{ label: target.kind, store }], planRecords(plan, options.seed, keys), {
      total: options.exchanges,
      batchSize: options.batch,
      progress: options.progress,
    });
    return result!.writeMs;
  } finally {
    await store.close();
  }
}

/** Fills an emptied PostgreSQL schema from the SQLite file (filled first when it does not hold the asked count). */
async function copyIntoPostgres(
  target: Extract<StoreTarget, { kind: "postgres" }>,
  options: BenchOptions,
): Promise<void> {
  const source: StoreTarget = { kind: "sqlite", path: options.sqlitePath };
  if ((await recordedExchanges(source)) !== options.exchanges) {
    await prepareStore(source, { ...options, reuse: false });
  }
  // The schema as PgStore makes it (record tables, tenancy tables, triggers), then the rows.
  await (await openRecordStore(target)).close();
  const sql = postgres(schemaUrl(target.url, target.schema), { max: 1, onnotice: () => undefined });
  try {
    await copySqliteToPostgres(options.sqlitePath, sql, target.schema, options.progress);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Prepares one store (see the module comment).
 * @throws Error when the store does not hold the asked count after the fill
 */
export async function prepareStore(target: StoreTarget, options: BenchOptions): Promise<Prepared> {
  const have = await recordedExchanges(target);
  if (options.reuse && have === options.exchanges) {
    await analyze(target);
    return { target, method: null, fillMs: null, writeMs: null, bytes: await sizeOnDisk(target), exchanges: have };
  }
  const started = performance.now();
  await wipe(target);
  let writeMs: number | null = null;
  const method = target.kind === "postgres" && options.pgFill === "copy" ? "copy from SQLite" : "writeBatch";
  if (target.kind === "postgres" && method === "copy from SQLite") await copyIntoPostgres(target, options);
  else writeMs = await fillThroughStore(target, options);
  const fillMs = performance.now() - started;
  await analyze(target);
  const exchanges = await recordedExchanges(target);
  if (exchanges !== options.exchanges) {
    throw new Error(`${targetLabel(target)} holds ${exchanges} exchanges after the fill, not ${options.exchanges}`);
  }
  return { target, method, fillMs, writeMs, bytes: await sizeOnDisk(target), exchanges };
}
