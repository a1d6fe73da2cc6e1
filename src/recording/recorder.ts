/**
 * The queue between the request path and the record store. `enqueue`
 * never blocks and never throws. Every `flushIntervalMs` (or as soon as
 * `maxBatch` exchanges wait) the queued exchanges go to a sink as one
 * batch — in the server, a worker thread that assembles them, estimates
 * missing token counts and writes them in one transaction. The recorder
 * then observes each exchange in the metrics and runs its hooks — for every
 * exchange, written or given up. (Each exchange's log line is written by its
 * route when the answer ends, before it is queued: logging/exchange-line.ts.)
 *
 * Nothing is dropped while the store cannot write (full disk, I/O error,
 * lock, lost connection, a worker that died): the records the sink hands
 * back as kept stay at the head of the queue and are sent again with
 * backoff ({@link RETRY_MS}, forever) until written, before anything
 * queued after them; they count as queued, so the backpressure of
 * {@link Recorder.whenRoom} bounds memory. Only a record the store refuses
 * for its content is given up (logged, counted). `close()` drains the
 * queue. Embedding exchanges wait in a queue of their own and go to the
 * sink as a second kind of batch after the chat one. {@link Recorder.health} says, at no cost, whether all this
 * is going well.
 */
import type { Logger } from "pino";
import type { RelayMetrics } from "../metrics/relay-metrics.js";
import { assembleAndSummarize, type BatchResult, type ExchangeSummary } from "./record-writer.js";
import { InlineSink, RecordWorkerExited, type RecordSink } from "./record-sinks.js";
import { storeErrorText } from "./store-errors.js";
import type { EmbeddingExchange, ExchangeRecord, PendingExchange, RecordStore } from "./types.js";

/** Waits between the tries of a batch the store could not take, in ms: the first, and the most (doubling in between). */
export const RETRY_MS = { first: 100, max: 5000 } as const;
/** Tries of a batch whose sink died with it before its records are sent one at a time (and a lone record given up). */
const MAX_SINK_CRASHES = 3;

/** Recorder tuning. */
export interface RecorderOptions {
  /** Longest time an exchange waits in the queue, in ms (default 50). */
  flushIntervalMs?: number;
  /** Exchanges per transaction (default 512). */
  maxBatch?: number;
  /**
   * Exchanges that may wait (queued, being written, or kept for retry) before new requests
   * are held back (see {@link Recorder.whenRoom}); default 8 × `maxBatch`.
   * Records are never dropped: under sustained overload, or while the store cannot write, the
   * proxy slows its clients down to the recorder's pace instead of growing its memory.
   */
  maxQueued?: number;
  /** false: observe exchanges but write nothing (`record: false`). Default true. */
  persist?: boolean;
  /** Where exchanges are observed, if anywhere. */
  metrics?: RelayMetrics;
  /** A batch in the sink's hands longer than this, in ms, makes {@link Recorder.health} degraded (`unresponsive`); default 10 000. */
  unresponsiveMs?: number;
  /** How long `close()` keeps trying records the store cannot take, in ms, before it gives them up (logged, counted); default 30 000. */
  closeGiveUpMs?: number;
  /**
   * Called once per chat exchange after its batch was assembled (tokens
   * estimated, cost priced) and written — or given up; a record kept for
   * retry is reported once written. With recording off, for exchanges that
   * carry `billing` (assembled here). Off the request path; what it throws
   * is logged and ignored. The server books the usage ledger and settles
   * rate limits here.
   */
  onRecorded?: (summary: ExchangeSummary) => void;
  /** Called once per embedding exchange once it is written or given up (with recording off, when its batch is due); same rules as `onRecorded`. */
  onEmbeddingRecorded?: (record: EmbeddingExchange) => void;
}

/** How the recorder is doing, as `/health` reports it (computed from counters: no I/O). */
export interface RecorderHealth {
  /** `degraded` when any of `reasons` holds. */
  status: "ok" | "degraded";
  /**
   * The worst condition: `off` (recording off), `ok`, `backlogged` (at least `maxQueued` records
   * wait), `retrying` (records kept: the store cannot take them), `unresponsive` (the sink has
   * held a batch longer than `unresponsiveMs`).
   */
  state: "off" | "ok" | "backlogged" | "retrying" | "unresponsive";
  /** Why it is degraded, one sentence each; empty when ok. */
  reasons: string[];
  /** Records waiting: queued, being written, or kept. */
  queued: number;
  /** Of those, records the store could not take, waiting for their next try. */
  kept: number;
  /** Records written since start. */
  written: number;
  /** Records given up since start. */
  failedWrites: number;
  /** The last error of the store or sink (`CODE: message`), or null when none since start. */
  lastError: string | null;
  /** When `lastError` happened (ISO-8601 UTC), or null. */
  lastErrorAt: string | null;
}

/** One try of a batch, as the retry loop sees it. */
type Attempt = { result: BatchResult } | { error: unknown };

/** Queue + batch writer in front of a record sink. */
export class Recorder {
  private queue: (PendingExchange | ExchangeRecord)[] = [];
  private embeddings: EmbeddingExchange[] = [];
  /** Records taken from a queue and not yet written or given up (kept ones included). */
  private inHand = 0;
  /** Records of the batch in hand the store could not take, waiting for their next try. */
  private kept = 0;
  /** When the sink was handed the batch it is writing now (ms since the epoch), or null. */
  private sentAt: number | null = null;
  private lastError: string | null = null;
  private lastErrorAt: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  /** When close() began (ms since the epoch), or null. */
  private closingSince: number | null = null;
  private failed = 0;
  private written = 0;
  private readonly sink: RecordSink;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxQueued: number;
  private readonly unresponsiveMs: number;
  private readonly closeGiveUpMs: number;
  /** Requests held back by {@link whenRoom}, released once the queue is down to half of maxQueued. */
  private roomWaiters: (() => void)[] = [];
  private readonly persist: boolean;
  private readonly metrics: RelayMetrics | undefined;
  private readonly onRecorded: ((summary: ExchangeSummary) => void) | undefined;
  private readonly onEmbeddingRecorded: ((record: EmbeddingExchange) => void) | undefined;

  /**
   * @param target a sink, or a store to write into from this thread
   */
  constructor(
    target: RecordSink | RecordStore,
    private readonly logger: Logger,
    options: RecorderOptions = {},
  ) {
    this.sink = "writeBatch" in target ? new InlineSink(target) : target;
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.maxBatch = options.maxBatch ?? 512;
    this.maxQueued = Math.max(1, options.maxQueued ?? 8 * this.maxBatch);
    this.unresponsiveMs = options.unresponsiveMs ?? 10_000;
    this.closeGiveUpMs = options.closeGiveUpMs ?? 30_000;
    this.persist = options.persist ?? true;
    this.metrics = options.metrics;
    this.onRecorded = options.onRecorded;
    this.onEmbeddingRecorded = options.onEmbeddingRecorded;
  }

  /** Exchanges waiting to be written (queued, in the batch being written, or kept for retry). */
  get queued(): number {
    return this.queue.length + this.embeddings.length + this.inHand;
  }

  /** Exchanges given up since start (the store refused their content). */
  get failedWrites(): number {
    return this.failed;
  }

  /** Exchanges written since start. */
  get writtenRecords(): number {
    return this.written;
  }

  /**
   * The recorder's condition, from its own counters (no statement, no lock): degraded while
   * records are kept for retry, while the sink has held a batch longer than `unresponsiveMs`,
   * or while at least `maxQueued` records wait; ok otherwise, and always with recording off.
   * @param now the time to judge a held batch by, in ms since the epoch (default: now)
   */
  health(now = Date.now()): RecorderHealth {
    const reasons: string[] = [];
    let state: RecorderHealth["state"] = this.persist ? "ok" : "off";
    if (this.persist && this.queued >= this.maxQueued) {
      state = "backlogged";
      reasons.push(
        `${this.queued} records wait to be written, at or above the high mark of ${this.maxQueued}: new requests are held back`,
      );
    }
    if (this.kept > 0) {
      state = "retrying";
      reasons.push(
        `${this.kept} records kept for retry: the store cannot write them (${this.lastError ?? "unknown error"})`,
      );
    }
    if (this.sentAt !== null && now - this.sentAt > this.unresponsiveMs) {
      state = "unresponsive";
      reasons.push(
        `the record writer has held a batch for ${Math.round((now - this.sentAt) / 1000)} s (more than ${this.unresponsiveMs / 1000} s)`,
      );
    }
    return {
      status: reasons.length === 0 ? "ok" : "degraded",
      state,
      reasons,
      queued: this.queued,
      kept: this.kept,
      written: this.written,
      failedWrites: this.failed,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt === null ? null : new Date(this.lastErrorAt).toISOString(),
    };
  }

  /**
   * Backpressure for the request path: null while fewer than `maxQueued`
   * exchanges wait, else a promise that resolves once the queue is down to
   * half of it (or the recorder is closed). Never rejects.
   */
  whenRoom(): Promise<void> | null {
    if (this.queued < this.maxQueued) return null;
    return new Promise<void>((resolve) => {
      this.roomWaiters.push(resolve);
      this.schedule(0);
    });
  }

  /** Releases the requests held back by {@link whenRoom} once the queue is down to half of maxQueued (always, with `force`). */
  private releaseWaiters(force = false): void {
    if (this.roomWaiters.length === 0 || (!force && this.queued > this.maxQueued / 2)) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Queues one exchange: a pending one from the server (raw output, assembled
   * in the batch), or a record already assembled (tools, benchmarks). Returns at once.
   */
  enqueue(exchange: PendingExchange | ExchangeRecord): void {
    this.queue.push(exchange);
    if (this.queue.length >= this.maxBatch) this.schedule(0);
    else this.schedule(this.flushIntervalMs);
  }

  /** Queues one embedding exchange (`llm_relay_embeddings`), written with the next batch. Returns at once. */
  enqueueEmbedding(exchange: EmbeddingExchange): void {
    this.embeddings.push(exchange);
    this.schedule(this.embeddings.length >= this.maxBatch ? 0 : this.flushIntervalMs);
  }

  /** Writes everything queued so far; resolves when it is on disk or given up (while the store cannot write, it waits). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0 && this.embeddings.length === 0) return;
    this.flushing = this.writeAll().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  /** Drains the queue (records the store cannot take are tried for `closeGiveUpMs`, then given up), then closes the sink (and its store). */
  async close(): Promise<void> {
    this.closingSince ??= Date.now();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
    this.releaseWaiters(true);
    await this.sink.close();
  }

  private schedule(delayMs: number): void {
    if (this.timer && delayMs > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, delayMs);
    this.timer.unref();
  }

  private async writeAll(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      if (this.persist)
        await this.writeHeld(
          batch,
          (some) => this.sink.write(some),
          (result, some) => this.report(result, some),
          (some, reason) => this.giveUp(some, reason),
        );
      else this.reportUnrecorded(batch);
    }
    const writeEmbeddings = this.sink.writeEmbeddings?.bind(this.sink);
    while (this.embeddings.length > 0) {
      const batch = this.embeddings.splice(0, this.maxBatch);
      if (this.persist && writeEmbeddings)
        await this.writeHeld(
          batch,
          writeEmbeddings,
          (result, some) => this.reportEmbeddings(result, some),
          (some, reason) => this.giveUpEmbeddings(some, reason),
        );
      else this.embeddingHooks(batch);
    }
    this.releaseWaiters();
  }

  /** {@link untilSettled} with the batch counted as in hand (queued) while it lasts. */
  private async writeHeld<T>(
    batch: readonly T[],
    write: (batch: readonly T[]) => Promise<BatchResult>,
    report: (result: BatchResult, batch: readonly T[]) => void,
    giveUp: (batch: readonly T[], reason: string) => void,
  ): Promise<void> {
    this.inHand = batch.length;
    try {
      await this.untilSettled(batch, write, report, giveUp);
    } finally {
      this.inHand = 0;
      this.releaseWaiters();
    }
  }

  /**
   * Sends `batch` to the sink until every record is written or given up: records the store cannot
   * take (the result's `kept`) and a batch whose sink could not start are sent again after a
   * backoff ({@link RETRY_MS}), forever (during `close()`, for `closeGiveUpMs`). A batch the sink
   * died with {@link MAX_SINK_CRASHES} times is sent one record at a time, and a lone record
   * that kills it that often is given up.
   */
  private async untilSettled<T>(
    batch: readonly T[],
    write: (batch: readonly T[]) => Promise<BatchResult>,
    report: (result: BatchResult, batch: readonly T[]) => void,
    giveUp: (batch: readonly T[], reason: string) => void,
  ): Promise<void> {
    let pending = batch;
    let waitMs: number = RETRY_MS.first;
    let crashes = 0;
    try {
      for (;;) {
        const tried = await this.send(pending, write);
        if ("result" in tried) {
          report(tried.result, pending);
          const kept = tried.result.kept;
          if (!kept || kept.indices.length === 0) return;
          pending = kept.indices.map((i) => pending[i]!);
          this.noteError(kept.error);
        } else {
          const reason = storeErrorText(tried.error);
          this.noteError(reason);
          if (!(tried.error instanceof RecordWorkerExited && !tried.error.heldBatch) && ++crashes >= MAX_SINK_CRASHES) {
            if (pending.length === 1) {
              giveUp(pending, `the record writer failed ${crashes} times with it: ${reason}`);
              return;
            }
            this.kept = 0;
            for (const one of pending) await this.untilSettled([one], write, report, giveUp);
            return;
          }
        }
        this.kept = pending.length;
        this.logger.warn(
          { records: pending.length, retryInMs: waitMs, error: this.lastError },
          "the store cannot write these records now: kept, trying again",
        );
        if (this.closingSince !== null && Date.now() - this.closingSince >= this.closeGiveUpMs) {
          giveUp(pending, `still not written when the recorder closed: ${this.lastError ?? "unknown error"}`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        waitMs = Math.min(waitMs * 2, RETRY_MS.max);
      }
    } finally {
      this.kept = 0;
    }
  }

  /** One try: the sink's result, or what it threw. */
  private async send<T>(batch: readonly T[], write: (batch: readonly T[]) => Promise<BatchResult>): Promise<Attempt> {
    this.sentAt = Date.now();
    try {
      return { result: await write(batch) };
    } catch (error) {
      return { error };
    } finally {
      this.sentAt = null;
    }
  }

  private noteError(text: string): void {
    this.lastError = text;
    this.lastErrorAt = Date.now();
  }

  /** Counts, logs and reports chat records given up (hooks included): the sink could not write them at all. */
  private giveUp(batch: readonly (PendingExchange | ExchangeRecord)[], reason: string): void {
    this.settleGivenUp(batch, reason, "could not record exchanges: given up");
    for (const exchange of batch) this.reportSummary(assembleAndSummarize(exchange, []).summary);
  }

  private giveUpEmbeddings(batch: readonly EmbeddingExchange[], reason: string): void {
    this.settleGivenUp(batch, reason, "could not record embedding exchanges: given up");
    this.embeddingHooks(batch);
  }

  private settleGivenUp(batch: readonly { requestId: string }[], reason: string, message: string): void {
    this.countFailures(batch.length);
    this.inHand -= batch.length;
    this.logger.error({ records: batch.length, ids: batch.map((e) => e.requestId), error: reason }, message);
  }

  private countFailures(n: number): void {
    this.failed += n;
    this.metrics?.countDbWriteFailures(n);
  }

  /**
   * Counts and logs what the sink did with a batch (written, given up, warnings).
   * @returns the indices of the records it kept (not settled: they are tried again)
   */
  private settle(result: BatchResult, batchLength: number, what: string): Set<number> {
    const kept = new Set(result.kept?.indices ?? []);
    this.written += result.written;
    this.inHand -= batchLength - kept.size;
    for (const warning of result.warnings) this.logger.warn(warning);
    for (const failure of result.failures) {
      this.countFailures(1);
      this.noteError(failure.error);
      this.logger.error(
        { id: failure.id, requestId: failure.requestId, error: failure.error },
        `could not record ${what}`,
      );
    }
    return kept;
  }

  /** Counts and logs an embedding batch's result; hooks for the records written or given up. */
  private reportEmbeddings(result: BatchResult, batch: readonly EmbeddingExchange[]): void {
    const kept = this.settle(result, batch.length, "embedding exchange");
    this.embeddingHooks(batch.filter((_, i) => !kept.has(i)));
    this.releaseWaiters();
  }

  private embeddingHooks(records: readonly EmbeddingExchange[]): void {
    if (this.onEmbeddingRecorded)
      for (const record of records) this.callHook(() => this.onEmbeddingRecorded!(record), record.requestId);
  }

  /** Counts and logs a chat batch's result; observes, logs and hooks every exchange written or given up (kept ones wait for their next try). */
  private report(result: BatchResult, batch: readonly (PendingExchange | ExchangeRecord)[]): void {
    const kept = this.settle(result, batch.length, "exchange");
    result.summaries.forEach((summary, i) => {
      if (!kept.has(i)) this.reportSummary(summary);
    });
    this.releaseWaiters();
  }

  /** With recording off: observes the exchanges; those that carry `billing` are assembled for the hooks. */
  private reportUnrecorded(batch: readonly (PendingExchange | ExchangeRecord)[]): void {
    for (const exchange of batch) {
      const billed =
        this.onRecorded && "output" in exchange && exchange.billing ? assembleAndSummarize(exchange, []).summary : null;
      if (billed) this.reportSummary(billed);
      else this.observe(summaryOfUnrecorded(exchange));
    }
  }

  private reportSummary(summary: ExchangeSummary): void {
    this.observe(summary);
    if (this.onRecorded) this.callHook(() => this.onRecorded!(summary), summary.requestId);
  }

  /** Runs a hook; a hook that throws is logged, never fatal. */
  private callHook(hook: () => void, requestId: string): void {
    try {
      hook();
    } catch (error) {
      this.logger.error({ err: error, id: requestId }, "recorder hook failed");
    }
  }

  /** Observes an exchange in the metrics (its log line was written by its route when the answer ended: logging/exchange-line.ts). */
  private observe(summary: ExchangeSummary): void {
    this.metrics?.observeExchange(summary);
  }
}

/** With recording off, exchanges are observed without being assembled (no token counts). */
function summaryOfUnrecorded(exchange: PendingExchange | ExchangeRecord): ExchangeSummary {
  return {
    id: exchange.id,
    requestId: exchange.requestId,
    requestedModel: exchange.requestedModel,
    provider: exchange.provider,
    deployment: exchange.deployment,
    httpStatus: exchange.httpStatus,
    status: exchange.status,
    durationMs: exchange.durationMs,
    ttftMs: exchange.ttftMs,
    overheadMs: exchange.overheadMs ?? null,
    usage: "usage" in exchange ? exchange.usage : null,
    error: exchange.error,
    errorClass: "errorClass" in exchange ? exchange.errorClass : null,
  };
}
