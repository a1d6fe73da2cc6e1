/**
 * The work of writing one batch: assemble each exchange from its raw
 * upstream output (each on its own: one that cannot be assembled is
 * recorded as an `upstream_invalid_response` error with the upstream's raw
 * text), estimate the token counts an upstream did not report, and write
 * the batch into the store in one transaction. A batch the store cannot
 * take for its own condition (a full disk, an I/O error, a lock, a lost
 * connection: {@link isTransientStoreError}) is handed back as `kept`, for
 * the recorder to write again later; a batch that fails for a record's
 * content is retried record by record, a refused record once more in its
 * reduced form, so that one bad record costs only itself. Runs in the
 * recorder's worker thread, or inline.
 */
import { exchangeCostUsd } from "../catalog/cost.js";
import { countPromptTokens, countTextTokens } from "../tokens/count.js";
import { assembleExchange } from "./assemble.js";
import { boundedCopy, reducedExchange } from "./reduced-record.js";
import { isTransientStoreError, storeErrorText } from "./store-errors.js";
import type {
  EmbeddingExchange,
  ExchangeBilling,
  ExchangeRecord,
  ExchangeStatus,
  PendingExchange,
  RawOutput,
  RecordStore,
  TokenUsage,
} from "./types.js";

/** The error code (and text prefix) of an exchange whose upstream answer could not be assembled. */
export const UPSTREAM_INVALID_RESPONSE = "upstream_invalid_response";

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
  /** One per exchange of a chat batch, in batch order (kept ones included); empty for embeddings. */
  summaries: ExchangeSummary[];
  /** Records written. */
  written: number;
  /** Records given up (the store refused their content, in full and reduced form), with the reason. */
  failures: { id: string; requestId: string; error: string }[];
  /** Records written in reduced form, batch failures and the like, worth a warning. */
  warnings: string[];
  /**
   * Records not written because the store could not take them for its own condition (full disk,
   * I/O error, lock, lost connection): their indices in the batch, ascending, and the store's error.
   * The recorder writes them again later, before anything queued after them. Absent when none.
   */
  kept?: { indices: number[]; error: string };
}

/** Assembles and writes batches into one store. */
export class RecordWriter {
  constructor(private readonly store: RecordStore) {}

  /** Writes `batch`; never throws (what is not written is in `failures` or `kept`). */
  async write(batch: readonly (PendingExchange | ExchangeRecord)[]): Promise<BatchResult> {
    const result: BatchResult = { summaries: [], written: 0, failures: [], warnings: [] };
    const records = batch.map((exchange) => {
      const { record, summary } = assembleAndSummarize(exchange, result.warnings);
      result.summaries.push(summary);
      return record;
    });
    const booked = (i: number) => {
      if (this.store.booksUsage) result.summaries[i]!.ledgerBooked = true;
    };
    await writeAll(
      records,
      (some) => this.store.writeBatch(some),
      result,
      booked,
      (record, reason) => reducedExchange(record, reason),
    );
    return result;
  }

  /**
   * Writes embedding exchanges in one transaction, kept or retried one by one like a batch of
   * exchanges; never throws. A store without `writeEmbeddings` writes nothing (written: 0).
   */
  async writeEmbeddings(records: readonly EmbeddingExchange[]): Promise<BatchResult> {
    const result: BatchResult = { summaries: [], written: 0, failures: [], warnings: [] };
    const store = this.store;
    if (!store.writeEmbeddings) return result;
    await writeAll(
      records,
      (some) => store.writeEmbeddings!(some),
      result,
      () => undefined,
      null,
    );
    return result;
  }

  /** Closes the store. */
  async close(): Promise<void> {
    await this.store.close();
  }
}

/**
 * Writes `items` in one call of `write`; on a content failure, one by one (an item refused for its
 * content once more as `reduce` makes it, when given, then given up). A failure of the store's own
 * condition ends the work: the items not written yet go into `result.kept`.
 */
async function writeAll<T extends { id: string; requestId: string }>(
  items: readonly T[],
  write: (items: readonly T[]) => unknown,
  result: BatchResult,
  onWritten: (index: number) => void,
  reduce: ((item: T, reason: string) => T) | null,
): Promise<void> {
  if (items.length === 0) return;
  const whole = await attempt(() => write(items));
  if (whole === null) {
    result.written += items.length;
    items.forEach((_, i) => onWritten(i));
    return;
  }
  if (isTransientStoreError(whole.error)) {
    result.kept = { indices: items.map((_, i) => i), error: storeErrorText(whole.error) };
    return;
  }
  if (items.length > 1)
    result.warnings.push(`batch of ${items.length} failed, retrying one by one: ${storeErrorText(whole.error)}`);
  for (const [i, item] of items.entries()) {
    let failed = items.length > 1 ? await attempt(() => write([item])) : whole;
    if (failed !== null && !isTransientStoreError(failed.error) && reduce) {
      const refused = storeErrorText(failed.error);
      const reduced = reduce(item, `the store refused the record: ${refused}`);
      failed = await attempt(() => write([reduced]));
      if (failed === null)
        result.warnings.push(
          `exchange ${item.id} (request ${item.requestId}) written in reduced form: the store refused it (${refused})`,
        );
      else if (!isTransientStoreError(failed.error))
        failed = { error: new Error(`${refused}; in reduced form: ${storeErrorText(failed.error)}`) };
    }
    if (failed === null) {
      result.written += 1;
      onWritten(i);
    } else if (isTransientStoreError(failed.error)) {
      result.kept = { indices: items.map((_, j) => j).slice(i), error: storeErrorText(failed.error) };
      return;
    } else {
      result.failures.push({ id: item.id, requestId: item.requestId, error: storeErrorText(failed.error) });
    }
  }
}

/** Runs `op`; null when it succeeded, else what it threw. */
async function attempt(op: () => unknown): Promise<{ error: unknown } | null> {
  try {
    await op();
    return null;
  } catch (error) {
    return { error };
  }
}

/**
 * Assembles an exchange (a pending one from its raw output), fills in
 * estimated token counts and the cost, and summarises it; pricing problems
 * go into `warnings`. Used before writing, and on its own for exchanges
 * that are booked in the usage ledger while recording is off. Never throws:
 * a request that cannot be walked is assembled in its reduced form, an
 * answer that cannot be read makes an `error` record holding the raw text
 * ({@link UPSTREAM_INVALID_RESPONSE}); both are noted in `warnings`.
 */
export function assembleAndSummarize(
  exchange: PendingExchange | ExchangeRecord,
  warnings: string[],
): { record: ExchangeRecord; summary: ExchangeSummary } {
  const pending = "output" in exchange ? exchange : null;
  if (!pending) return finish(exchange as ExchangeRecord, null, warnings);
  try {
    return finish(assembleExchange(pending), pending, warnings);
  } catch (error) {
    return finish(assembleFallback(pending, error, warnings), pending, warnings);
  }
}

/** The record of a pending exchange whose assembly threw: the request's problem, or the answer's. */
function assembleFallback(pending: PendingExchange, error: unknown, warnings: string[]): ExchangeRecord {
  const reason = storeErrorText(error);
  const bare = tryAssemble({ ...pending, output: null });
  if (bare) {
    warnings.push(
      `exchange ${pending.id} (request ${pending.requestId}): the upstream's answer cannot be read, recorded as ${UPSTREAM_INVALID_RESPONSE}: ${reason}`,
    );
    return unreadableAnswer(bare, pending.output, reason);
  }
  // The request itself cannot be walked (e.g. nested too deep): its reduced form, with the answer if that can be read.
  const reduced = reducedExchange(pending, `the request cannot be assembled: ${reason}`);
  const whole = tryAssemble(reduced);
  warnings.push(`exchange ${pending.id} (request ${pending.requestId}) recorded in reduced form: ${reason}`);
  if (whole) return whole;
  const reducedBare = tryAssemble({ ...reduced, output: null });
  if (!reducedBare) throw error; // unreachable: a reduced exchange without output has nothing left to fail on
  return unreadableAnswer(reducedBare, pending.output, reason);
}

function tryAssemble(pending: PendingExchange): ExchangeRecord | null {
  try {
    return assembleExchange(pending);
  } catch {
    return null;
  }
}

/** `base` (assembled without its output) as an `error` record holding the upstream's raw answer as its response text. */
function unreadableAnswer(base: ExchangeRecord, output: RawOutput | null, reason: string): ExchangeRecord {
  const message = `${UPSTREAM_INVALID_RESPONSE}: the upstream's answer could not be read (${reason})`;
  return {
    ...base,
    status: "error",
    error: message,
    responseText: rawText(output),
    usage: null,
    responseJson: { error: { message, type: "upstream_error", param: null, code: UPSTREAM_INVALID_RESPONSE } },
  };
}

/** The upstream's answer as text, as it came (objects a provider built as JSON, depth-limited). */
function rawText(output: RawOutput | null): string {
  if (!output) return "";
  const text = (value: unknown) => (typeof value === "string" ? value : (JSON.stringify(boundedCopy(value)) ?? ""));
  if (output.kind === "completion") return text(output.body);
  if (output.kind === "stream") return output.events.map(text).join("\n");
  return output.blocks.join("");
}

/** Fills in usage and cost, and summarises; never throws (a count or price that fails is noted in `warnings`). */
function finish(
  record: ExchangeRecord,
  pending: PendingExchange | null,
  warnings: string[],
): { record: ExchangeRecord; summary: ExchangeSummary } {
  try {
    fillUsage(record);
  } catch (error) {
    record.usage = { input: 0, output: 0, estimated: true };
    warnings.push(`cannot count the tokens of exchange ${record.id}: ${storeErrorText(error)}`);
  }
  try {
    record.costUsd = exchangeCostUsd(record);
  } catch (error) {
    // A broken catalog file must not cost the record itself.
    record.costUsd = null;
    warnings.push(`cannot price exchange ${record.id}: ${storeErrorText(error)}`);
  }
  const errorClass =
    pending?.errorClass ?? (record.error?.startsWith(UPSTREAM_INVALID_RESPONSE) ? "upstream_protocol" : null);
  const summary = summarize(record, errorClass);
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
  // Reasoning tokens are completion tokens too (billed as output by every provider).
  const reasoning = record.reasoning ? countTextTokens(record.reasoning) : 0;
  const output =
    reasoning +
    countTextTokens(record.responseText) +
    record.toolCalls.reduce((n, c) => n + countTextTokens(c.name) + countTextTokens(c.arguments), 0);
  record.usage = { input: countPromptTokens(record.messages), output, estimated: true };
}
