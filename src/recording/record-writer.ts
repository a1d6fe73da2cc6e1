/**
 * The work of writing one batch: assemble each exchange from its raw
 * upstream output, estimate the token counts an upstream did not report,
 * and write the batch into the store in one transaction. A batch that meets
 * another process's lock is retried with backoff; a batch that fails for
 * any other reason is retried record by record, so that one bad record
 * costs only itself. Runs in the recorder's worker thread, or inline.
 */
import { exchangeCostUsd } from "../catalog/cost.js";
import { countPromptTokens, countTextTokens } from "../tokens/count.js";
import { assembleExchange } from "./assemble.js";
import { isLockContention } from "./sqlite/connection.js";
import type { EmbeddingExchange, ExchangeBilling, ExchangeRecord, ExchangeStatus, PendingExchange, RecordStore, TokenUsage } from "./types.js";

/** Retries of one batch while the database is locked by another process (about a minute in all). */
const MAX_BUSY_RETRIES = 30;
const BUSY_BACKOFF_BASE_MS = 50;
const BUSY_BACKOFF_MAX_MS = 2000;

/** What the recorder logs and observes of one exchange (small, cheap to pass between threads). */
export interface ExchangeSummary {
  id: string;
  requestId: string;
  requestedModel: string;
  provider: string | null;
  deployment: string | null;
  httpStatus: number;
  status: ExchangeStatus;
  durationMs: number;
  ttftMs: number | null;
  overheadMs: number | null;
  usage: TokenUsage | null;
  error: string | null;
  errorClass: string | null;
  /** Cost in USD from the catalog (see {@link ExchangeRecord.costUsd}); null when unpriced or unknown. */
  costUsd?: number | null;
  /** The tenant and API key of the request, when the server's admission set them. */
  tenantId?: string | null;
  keyId?: string | null;
  /** How the usage ledger books it (from the pending exchange); absent when it is not booked. */
  billing?: ExchangeBilling | null;
  /** True when the upstream produced an answer (complete or partial): the exchange is billable. */
  billable?: boolean;
  /**
   * True when the store wrote the exchange's usage-ledger row in the same transaction as its record
   * (a store with {@link RecordStore.booksUsage}); the server's booking then only settles rate limits.
   */
  ledgerBooked?: boolean;
}

/** The result of writing one batch. */
export interface BatchResult {
  summaries: ExchangeSummary[];
  written: number;
  /** Records that could not be written, with the reason. */
  failures: { id: string; requestId: string; error: string }[];
  /** Lock waits and batch failures worth a warning. */
  warnings: string[];
}

/**
 * Runs `write`, again while another connection holds the database's lock
 * (with backoff, at most {@link MAX_BUSY_RETRIES} times, each wait noted in
 * `warnings`).
 * @returns null when it succeeded, else the last error
 */
async function whileBusy(write: () => unknown, warnings: string[]): Promise<{ error: unknown } | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return null;
    } catch (error) {
      if (!isLockContention(error) || attempt > MAX_BUSY_RETRIES) return { error };
      warnings.push(`database busy (attempt ${attempt}): ${errorText(error)}`);
      await sleep(Math.min(BUSY_BACKOFF_BASE_MS * 2 ** attempt, BUSY_BACKOFF_MAX_MS));
    }
  }
}

/** Assembles and writes batches into one store. */
export class RecordWriter {
  constructor(private readonly store: RecordStore) {}

  /** Writes `batch`; never throws. */
  async write(batch: readonly (PendingExchange | ExchangeRecord)[]): Promise<BatchResult> {
    const result: BatchResult = { summaries: [], written: 0, failures: [], warnings: [] };
    const records = batch.map((exchange) => {
      const { record, summary } = assembleAndSummarize(exchange, result.warnings);
      result.summaries.push(summary);
      return record;
    });
    if (records.length === 0) return result;
    const failed = await whileBusy(() => this.store.writeBatch(records), result.warnings);
    if (failed === null) {
      result.written = records.length;
      if (this.store.booksUsage) for (const summary of result.summaries) summary.ledgerBooked = true;
      return result;
    }
    result.warnings.push(`batch of ${records.length} failed, retrying one by one: ${errorText(failed.error)}`);
    await this.writeOneByOne(records, result);
    return result;
  }

  /**
   * Writes embedding exchanges in one transaction, retried like a batch of
   * exchanges while another process holds the lock; never throws. A store
   * without `writeEmbeddings` writes nothing (written: 0).
   */
  async writeEmbeddings(records: readonly EmbeddingExchange[]): Promise<BatchResult> {
    const result: BatchResult = { summaries: [], written: 0, failures: [], warnings: [] };
    const store = this.store;
    if (records.length === 0 || !store.writeEmbeddings) return result;
    const failed = await whileBusy(() => store.writeEmbeddings!(records), result.warnings);
    if (failed === null) result.written = records.length;
    else for (const record of records) result.failures.push({ id: record.id, requestId: record.requestId, error: errorText(failed.error) });
    return result;
  }

  /** Closes the store. */
  async close(): Promise<void> {
    await this.store.close();
  }

  private async writeOneByOne(records: ExchangeRecord[], result: BatchResult): Promise<void> {
    for (const [i, record] of records.entries()) {
      try {
        await this.store.writeBatch([record]);
        result.written += 1;
        if (this.store.booksUsage) result.summaries[i]!.ledgerBooked = true;
      } catch (error) {
        result.failures.push({ id: record.id, requestId: record.requestId, error: errorText(error) });
      }
    }
  }
}

/**
 * Assembles an exchange (a pending one from its raw output), fills in
 * estimated token counts and the cost, and summarises it; pricing problems
 * go into `warnings`. Used before writing, and on its own for exchanges
 * that are booked in the usage ledger while recording is off.
 */
export function assembleAndSummarize(exchange: PendingExchange | ExchangeRecord, warnings: string[]): { record: ExchangeRecord; summary: ExchangeSummary } {
  const pending = "output" in exchange ? exchange : null;
  const record = pending ? assembleExchange(pending) : (exchange as ExchangeRecord);
  fillUsage(record);
  try {
    record.costUsd = exchangeCostUsd(record);
  } catch (error) {
    // A broken catalog file must not cost the record itself.
    record.costUsd = null;
    warnings.push(`cannot price exchange ${record.id}: ${errorText(error)}`);
  }
  const summary = summarize(record, pending?.errorClass ?? null);
  if (pending?.billing) summary.billing = record.billing = pending.billing;
  summary.billable = record.billable = pending ? pending.output !== null : record.status !== "error";
  return { record, summary };
}

function summarize(record: ExchangeRecord, errorClass: string | null): ExchangeSummary {
  return {
    id: record.id,
    requestId: record.requestId,
    requestedModel: record.requestedModel,
    provider: record.provider,
    deployment: record.deployment,
    httpStatus: record.httpStatus,
    status: record.status,
    durationMs: record.durationMs,
    ttftMs: record.ttftMs,
    overheadMs: record.overheadMs ?? null,
    usage: record.usage,
    error: record.error,
    errorClass,
    costUsd: record.costUsd ?? null,
    tenantId: record.tenantId ?? null,
    keyId: record.keyId ?? null,
  };
}

/** Estimates the token counts of a record whose upstream reported none. */
function fillUsage(record: ExchangeRecord): void {
  if (record.usage) return;
  const output = countTextTokens(record.responseText) + record.toolCalls.reduce((n, c) => n + countTextTokens(c.name) + countTextTokens(c.arguments), 0);
  record.usage = { input: countPromptTokens(record.messages), output, estimated: true };
}

/** SQLite lock errors are worth retrying; anything else is not. */
function errorText(error: unknown): string {
  return error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
