/**
 * The queue between the request path and the record store. `enqueue`
 * never blocks and never throws. Every `flushIntervalMs` (or as soon as
 * `maxBatch` exchanges wait) the queued exchanges go to a sink as one
 * batch — in the server, a worker thread that assembles them, estimates
 * missing token counts and writes them in one transaction. The recorder
 * then logs one line per exchange and observes it in the metrics. A record
 * that cannot be written is logged and counted, never fatal; `close()`
 * drains the queue. Embedding exchanges wait in a queue of their own and go
 * to the sink as a second kind of batch after the chat one (their route
 * logs them itself).
 */
import type { Logger } from "pino";
import type { RelayMetrics } from "../metrics/relay-metrics.js";
import { assembleAndSummarize, type BatchResult, type ExchangeSummary } from "./record-writer.js";
import { InlineSink, type RecordSink } from "./record-sinks.js";
import type { EmbeddingExchange, ExchangeRecord, PendingExchange, RecordStore } from "./types.js";

/** Recorder tuning. */
export interface RecorderOptions {
  /** Longest time an exchange waits in the queue, in ms (default 50). */
  flushIntervalMs?: number;
  /** Exchanges per transaction (default 512). */
  maxBatch?: number;
  /**
   * Exchanges that may wait (queued or being written) before new requests
   * are held back (see {@link Recorder.whenRoom}); default 8 × `maxBatch`.
   * Records are never dropped: under sustained overload the proxy slows
   * its clients down to the recorder's pace instead of growing its memory.
   */
  maxQueued?: number;
  /** false: log and observe exchanges but write nothing (`record: false`). Default true. */
  persist?: boolean;
  /** Where exchanges are observed, if anywhere. */
  metrics?: RelayMetrics;
  /**
   * Called once per chat exchange after its batch was assembled (tokens
   * estimated, cost priced) and written — or failed to be written; with
   * recording off, for exchanges that carry `billing` (assembled here).
   * Off the request path; what it throws is logged and ignored. The server
   * books the usage ledger and settles rate limits here.
   */
  onRecorded?: (summary: ExchangeSummary) => void;
  /** Called once per embedding exchange when its batch is handed to the sink (written or not, recording on or off); same rules as `onRecorded`. */
  onEmbeddingRecorded?: (record: EmbeddingExchange) => void;
}

/** Queue + batch writer in front of a record sink. */
export class Recorder {
  private queue: (PendingExchange | ExchangeRecord)[] = [];
  private embeddings: EmbeddingExchange[] = [];
  private inBatch = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private failed = 0;
  private written = 0;
  private readonly sink: RecordSink;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxQueued: number;
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
    this.persist = options.persist ?? true;
    this.metrics = options.metrics;
    this.onRecorded = options.onRecorded;
    this.onEmbeddingRecorded = options.onEmbeddingRecorded;
  }

  /** Exchanges waiting to be written (queued, or in the batch being written). */
  get queued(): number {
    return this.queue.length + this.embeddings.length + this.inBatch;
  }

  /** Exchanges that could not be written since start. */
  get failedWrites(): number {
    return this.failed;
  }

  /** Exchanges written since start. */
  get writtenRecords(): number {
    return this.written;
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

  /** Writes everything queued so far; resolves when it is on disk (or failed). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0 && this.embeddings.length === 0) return;
    this.flushing = this.writeAll().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  /** Drains the queue, then closes the sink (and its store). */
  async close(): Promise<void> {
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
      this.inBatch = batch.length;
      try {
        if (this.persist) this.report(await this.sink.write(batch), []);
        else this.report({ summaries: [], written: 0, failures: [], warnings: [] }, batch);
      } catch (error) {
        // The sink itself failed (e.g. its worker died): these records are lost; say so.
        this.failed += batch.length;
        this.metrics?.countDbWriteFailures(batch.length);
        this.logger.error({ err: error, records: batch.length }, "could not record exchanges");
      } finally {
        this.inBatch = 0;
        this.releaseWaiters();
      }
    }
    while (this.embeddings.length > 0) await this.writeEmbeddings(this.embeddings.splice(0, this.maxBatch));
    this.releaseWaiters();
  }

  private async writeEmbeddings(batch: EmbeddingExchange[]): Promise<void> {
    try {
      await this.persistEmbeddings(batch);
    } finally {
      if (this.onEmbeddingRecorded) for (const record of batch) this.callHook(() => this.onEmbeddingRecorded!(record), record.requestId);
    }
  }

  private async persistEmbeddings(batch: EmbeddingExchange[]): Promise<void> {
    if (!this.persist || !this.sink.writeEmbeddings) return;
    this.inBatch = batch.length;
    try {
      const result = await this.sink.writeEmbeddings(batch);
      this.written += result.written;
      for (const warning of result.warnings) this.logger.warn(warning);
      for (const failure of result.failures) {
        this.failed += 1;
        this.metrics?.countDbWriteFailures(1);
        this.logger.error({ id: failure.id, requestId: failure.requestId, error: failure.error }, "could not record embedding exchange");
      }
    } catch (error) {
      this.failed += batch.length;
      this.metrics?.countDbWriteFailures(batch.length);
      this.logger.error({ err: error, records: batch.length }, "could not record embedding exchanges");
    } finally {
      this.inBatch = 0;
    }
  }

  /** Logs and observes a written batch (or, with recording off, the exchanges themselves). */
  private report(result: BatchResult, unrecorded: readonly (PendingExchange | ExchangeRecord)[]): void {
    this.written += result.written;
    for (const warning of result.warnings) this.logger.warn(warning);
    for (const failure of result.failures) {
      this.failed += 1;
      this.metrics?.countDbWriteFailures(1);
      this.logger.error({ id: failure.id, requestId: failure.requestId, error: failure.error }, "could not record exchange");
    }
    for (const summary of result.summaries) {
      this.observe(summary);
      if (this.onRecorded) this.callHook(() => this.onRecorded!(summary), summary.requestId);
    }
    for (const exchange of unrecorded) {
      const billed = this.onRecorded && "output" in exchange && exchange.billing ? assembleAndSummarize(exchange, []).summary : null;
      this.observe(billed ?? summaryOfUnrecorded(exchange));
      if (billed) this.callHook(() => this.onRecorded!(billed), billed.requestId);
    }
  }

  /** Runs a hook; a hook that throws is logged, never fatal. */
  private callHook(hook: () => void, requestId: string): void {
    try {
      hook();
    } catch (error) {
      this.logger.error({ err: error, id: requestId }, "recorder hook failed");
    }
  }

  private observe(summary: ExchangeSummary): void {
    this.metrics?.observeExchange(summary);
    this.logger.info(
      {
        id: summary.requestId,
        responseId: summary.id,
        model: summary.requestedModel,
        deployment: summary.deployment,
        status: summary.httpStatus,
        outcome: summary.status,
        ms: summary.durationMs,
        ttftMs: summary.ttftMs,
        overheadMs: summary.overheadMs,
        tokens: summary.usage,
        ...(summary.error ? { error: summary.error } : {}),
      },
      "chat.completion",
    );
  }
}

/** With recording off, exchanges are logged and observed without being assembled (no token counts). */
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
