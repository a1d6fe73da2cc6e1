/**
 * Measuring helpers of the recorder bench: a timing decorator around a
 * RecordStore, percentiles, per-table row counts, and the baseline store
 * (a plain prepared `INSERT INTO responses` per exchange, nothing else).
 */
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import type { Database as Db } from "better-sqlite3";
import { DeferredInserts } from "../../src/recording/sqlite/deferred-inserts.js";
import { ensureSchema } from "../../src/recording/sqlite/schema.js";
import { llmDatetime } from "../../src/recording/llm-format.js";
import type { ExchangeRecord, LogQuery, LogRow, RecordStore } from "../../src/recording/types.js";
import type { RecordedExchangeLookup } from "../../src/protocol/inbound.js";

/** The tables an exchange inserts rows into (FTS index rows follow `responses` and `turn_search`). */
export const COUNTED_TABLES = [
  "conversations",
  "responses",
  "messages",
  "parts",
  "threads",
  "turns",
  "turn_search",
  "llm_relay_exchanges",
] as const;

/** Rows per table. */
export type RowCounts = Record<string, number>;

/** `SELECT count(*)` of every counted table that exists in the file. */
export function countRows(path: string): RowCounts {
  const db = new Database(path, { readonly: true });
  try {
    const out: RowCounts = {};
    for (const table of COUNTED_TABLES) {
      const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
      out[table] = exists ? (db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n : 0;
    }
    return out;
  } finally {
    db.close();
  }
}

/** `after - before` per table, and the total. */
export function rowDelta(before: RowCounts, after: RowCounts): { byTable: RowCounts; total: number } {
  const byTable: RowCounts = {};
  let total = 0;
  for (const [table, n] of Object.entries(after)) {
    const d = n - (before[table] ?? 0);
    byTable[table] = d;
    total += d;
  }
  return { byTable, total };
}

/** Nearest-rank percentile of `values` (0 when empty). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Summary of the batches a store committed. */
export interface BatchStats {
  batches: number;
  meanSize: number;
  maxSize: number;
  commitMsP50: number;
  commitMsP99: number;
  commitMsMax: number;
  commitMsMean: number;
  /** Sum of all `writeBatch` times, ms. */
  commitMsTotal: number;
}

/** A RecordStore decorator that times every `writeBatch` (the whole transaction, commit included). */
export class TimedStore implements RecordStore {
  /** Duration of each `writeBatch`, ms. */
  readonly times: number[] = [];
  /** Records in each batch. */
  readonly sizes: number[] = [];

  constructor(private readonly inner: RecordStore) {}

  async writeBatch(records: readonly ExchangeRecord[]): Promise<void> {
    const t0 = performance.now();
    await this.inner.writeBatch(records);
    this.times.push(performance.now() - t0);
    this.sizes.push(records.length);
  }

  isWritable(): boolean | Promise<boolean> {
    return this.inner.isWritable();
  }

  listResponses(query: LogQuery): LogRow[] | Promise<LogRow[]> {
    return this.inner.listResponses(query);
  }

  findExchange(id: string, tenantId: string): RecordedExchangeLookup | null | Promise<RecordedExchangeLookup | null> {
    return this.inner.findExchange(id, tenantId);
  }

  close(): void | Promise<void> {
    return this.inner.close();
  }

  /** The distribution of batch sizes and times so far. */
  stats(): BatchStats {
    const total = this.times.reduce((a, b) => a + b, 0);
    const records = this.sizes.reduce((a, b) => a + b, 0);
    return {
      batches: this.times.length,
      meanSize: this.times.length ? records / this.times.length : 0,
      maxSize: Math.max(0, ...this.sizes),
      commitMsP50: percentile(this.times, 50),
      commitMsP99: percentile(this.times, 99),
      commitMsMax: Math.max(0, ...this.times),
      commitMsMean: this.times.length ? total / this.times.length : 0,
      commitMsTotal: total,
    };
  }
}

/**
 * Which baseline to run: the live `responses` row with llm's FTS triggers,
 * or with them dropped, or `null`: nothing written (the Recorder alone).
 */
export type BaselineKind = "responses" | "responses-nofts" | "null";

/**
 * The baseline: the live `responses` row of each exchange (same columns
 * and JSON as the real store writes), inserted as the store inserts it —
 * up to 64 rows per statement (src/recording/sqlite/deferred-inserts.ts) —
 * one transaction per batch, on a file with the full llm schema; no message
 * store, no threading, no history rows, no conversation rows.
 */
export class BaselineStore implements RecordStore {
  private readonly db: Db;
  private readonly rows: DeferredInserts;

  constructor(
    path: string,
    private readonly kind: BaselineKind,
  ) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("foreign_keys = OFF");
    ensureSchema(this.db);
    if (kind === "responses-nofts") this.db.exec(`DROP TRIGGER IF EXISTS "responses_ai"`);
    this.rows = new DeferredInserts(
      this.db,
      `INSERT INTO responses (id, model, prompt, system, prompt_json, options_json, response, response_json,
         conversation_id, duration_ms, datetime_utc, input_tokens, output_tokens, token_details, schema_id,
         resolved_model, reasoning)`,
      "(?, ?, ?, NULL, ?, ?, ?, ?, NULL, ?, ?, ?, ?, NULL, NULL, ?, NULL)",
    );
  }

  writeBatch(records: readonly ExchangeRecord[]): void {
    if (this.kind === "null") return;
    this.db.transaction(() => {
      for (const r of records) {
        const last = r.messages[r.messages.length - 1];
        this.rows.add([
          r.id,
          r.requestedModel,
          typeof last?.content === "string" ? last.content : "",
          JSON.stringify(r.requestBody),
          JSON.stringify(r.options),
          r.responseText,
          r.responseJson ? JSON.stringify(r.responseJson) : null,
          r.durationMs,
          llmDatetime(r.startedAt),
          r.usage?.input ?? null,
          r.usage?.output ?? null,
          r.resolvedModel,
        ]);
      }
      this.rows.flush();
    })();
  }

  isWritable(): boolean {
    return this.db.open;
  }

  listResponses(): LogRow[] {
    return [];
  }

  /** The baseline writes no exchanges table: nothing is found. */
  findExchange(): RecordedExchangeLookup | null {
    return null;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
