/**
 * Where the recorder sends its batches: a {@link RecordWriter} in this
 * thread, or one in a worker thread (the server's default), so that
 * assembling, token estimation, hashing and SQLite writes never hold up
 * the event loop that serves requests.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { BatchResult } from "./record-writer.js";
import { RecordWriter } from "./record-writer.js";
import { reducedExchange } from "./reduced-record.js";
import type { EmbeddingExchange, ExchangeRecord, PendingExchange, RecordStore } from "./types.js";

/** Receives batches; one at a time. */
export interface RecordSink {
  write(batch: readonly (PendingExchange | ExchangeRecord)[]): Promise<BatchResult>;
  /** Writes embedding exchanges (`llm_relay_embeddings`); a sink without it drops them. */
  writeEmbeddings?(records: readonly EmbeddingExchange[]): Promise<BatchResult>;
  close(): Promise<void>;
}

/** Writes in this thread. */
export class InlineSink implements RecordSink {
  private readonly writer: RecordWriter;
  constructor(store: RecordStore) {
    this.writer = new RecordWriter(store);
  }
  write(batch: readonly (PendingExchange | ExchangeRecord)[]): Promise<BatchResult> {
    return this.writer.write(batch);
  }
  writeEmbeddings(records: readonly EmbeddingExchange[]): Promise<BatchResult> {
    return this.writer.writeEmbeddings(records);
  }
  close(): Promise<void> {
    return this.writer.close();
  }
}

/**
 * The worker's V8 heap. Its young generation is capped well below V8's
 * default (which lets it grow to 3 × 16 MB under load, all of it resident):
 * a batch's garbage is short-lived, so a small nursery costs little time.
 * The old generation is left unbounded: a worker that ran out of heap would
 * lose the batch it holds.
 */
const WORKER_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 12 };

/** Messages to the worker. */
export type WorkerRequest =
  | { type: "write"; batch: readonly (PendingExchange | ExchangeRecord)[] }
  | { type: "write-embeddings"; records: readonly EmbeddingExchange[] }
  | { type: "close" };
/** Messages from the worker. */
export type WorkerReply =
  { type: "ready" } | { type: "written"; result: BatchResult } | { type: "closed" } | { type: "failed"; error: string };

/**
 * The record worker ended (it crashed, ran out of heap, or was terminated) while it held a batch,
 * or could not be started. The batch was not written: the recorder sends it again, and the sink
 * starts a new worker for it.
 */
export class RecordWorkerExited extends Error {
  /** True when the worker ended while it held the batch (the batch may be what killed it); false when no worker could be started for it. */
  readonly heldBatch: boolean;
  constructor(message: string, options: { cause?: unknown; heldBatch: boolean }) {
    super(message, { cause: options.cause });
    this.name = "RecordWorkerExited";
    this.heldBatch = options.heldBatch;
  }
}

/** A message that cannot cross to the worker: `postMessage` threw (structured clone: too deep, an uncloneable value). */
class CannotCross extends Error {
  constructor(readonly error: unknown) {
    super(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    this.name = "CannotCross";
  }
}

/** What the worker thread is started with (`workerData`). */
export interface WorkerStart {
  /** The logs.db to open. */
  dbPath: string;
  /** How long a write waits for another connection's lock, in ms. */
  busyTimeoutMs: number;
}

/**
 * How long the worker's writes wait for another process's lock before the batch is kept for retry, in ms:
 * long, since this thread holds up no request.
 */
export const WORKER_BUSY_TIMEOUT_MS = 5000;

/**
 * Writes in a worker thread that opens its own connection to the SQLite
 * file at `dbPath`. Every way a hand-off can fail leaves the sink ready for
 * the next batch: a record that cannot cross to the worker goes in its
 * reduced form (see `reduced-record.ts`), and a worker that died is
 * replaced on the next batch (the recorder sends the batch it held again).
 */
export class WorkerSink implements RecordSink {
  private worker: Worker | null = null;
  private pending: { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void } | null = null;

  /**
   * Starts the worker and waits until it has opened the database.
   * @param options.busyTimeoutMs how long a write waits for another connection's lock before the batch is kept
   *   for retry, in ms (default {@link WORKER_BUSY_TIMEOUT_MS})
   * @throws when the worker cannot open the database
   */
  static async start(dbPath: string, options: { busyTimeoutMs?: number } = {}): Promise<WorkerSink> {
    const sink = new WorkerSink({ dbPath, busyTimeoutMs: options.busyTimeoutMs ?? WORKER_BUSY_TIMEOUT_MS });
    await sink.spawn();
    return sink;
  }

  private constructor(private readonly startData: WorkerStart) {}

  /** Starts a worker thread and resolves once it has opened the database. */
  private spawn(): Promise<void> {
    const typescript = import.meta.url.endsWith(".ts");
    const url = new URL(`./record-worker${typescript ? ".ts" : ".js"}`, import.meta.url);
    const workerData = this.startData;
    const options = { workerData, resourceLimits: WORKER_RESOURCE_LIMITS };
    const worker = typescript
      ? // Under the test runner the sources are TypeScript: the worker loads them through tsx (a devDependency).
        new Worker(
          `import(${JSON.stringify(tsxApiUrl())}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`,
          { eval: true, ...options },
        )
      : new Worker(url, options);
    this.worker = worker;
    const ready = new Promise<void>((resolve, reject) => {
      this.pending = { resolve: () => resolve(), reject };
    });
    // The worker keeps the process alive only while it owes an answer (starting, writing, closing):
    // a script awaiting its record must not exit early, and an idle worker must not hold a process open.
    const settle = (): { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void } | null => {
      const pending = this.pending;
      this.pending = null;
      worker.unref();
      return pending;
    };
    worker.on("message", (reply: WorkerReply) => {
      const pending = settle();
      if (reply.type === "failed")
        pending?.reject(new RecordWorkerExited(`record worker failed: ${reply.error}`, { heldBatch: true }));
      else pending?.resolve(reply);
    });
    worker.on("error", (error) => {
      if (this.worker === worker) this.worker = null;
      settle()?.reject(
        new RecordWorkerExited(`record worker crashed: ${error.message}`, { cause: error, heldBatch: true }),
      );
    });
    worker.on("exit", (code) => {
      // A worker that died is replaced on the next batch; the recorder sends the batch it held again.
      if (this.worker === worker) this.worker = null;
      settle()?.reject(new RecordWorkerExited(`record worker exited with code ${code}`, { heldBatch: true }));
    });
    return ready;
  }

  /**
   * Writes `batch` in the worker (started first when none runs). A record that cannot cross to it
   * is sent in its reduced form, noted in the result's `warnings`.
   * @throws RecordWorkerExited when the worker died with the batch or could not be started
   */
  async write(batch: readonly (PendingExchange | ExchangeRecord)[]): Promise<BatchResult> {
    const warnings: string[] = [];
    let reply: WorkerReply;
    try {
      reply = await this.request({ type: "write", batch });
    } catch (error) {
      if (!(error instanceof CannotCross)) throw error;
      reply = await this.request({ type: "write", batch: crossable(batch, warnings) });
    }
    if (reply.type !== "written")
      throw new RecordWorkerExited(`record worker answered ${reply.type}`, { heldBatch: true });
    reply.result.warnings.unshift(...warnings);
    return reply.result;
  }

  /** @throws RecordWorkerExited when the worker died with the batch or could not be started */
  async writeEmbeddings(records: readonly EmbeddingExchange[]): Promise<BatchResult> {
    const reply = await this.request({ type: "write-embeddings", records });
    if (reply.type !== "written")
      throw new RecordWorkerExited(`record worker answered ${reply.type}`, { heldBatch: true });
    return reply.result;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.request({ type: "close" }).catch(() => undefined);
    this.worker = null;
    await worker.terminate();
  }

  /**
   * Posts one message and waits for the worker's answer; the sink is free again however it ends.
   * @throws CannotCross when the message cannot be cloned (nothing was sent); RecordWorkerExited
   */
  private async request(message: WorkerRequest): Promise<WorkerReply> {
    if (!this.worker) {
      try {
        await this.spawn();
      } catch (error) {
        // Nothing was sent: the batch is not what failed (e.g. the database cannot be opened).
        throw new RecordWorkerExited(
          `record worker could not start: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error, heldBatch: false },
        );
      }
    }
    const worker = this.worker;
    if (!worker) throw new RecordWorkerExited("record worker is not running", { heldBatch: false });
    if (this.pending) throw new Error("record worker is busy"); // the recorder sends one batch at a time
    return new Promise<WorkerReply>((resolve, reject) => {
      this.pending = { resolve, reject };
      worker.ref();
      try {
        worker.postMessage(message);
      } catch (error) {
        this.pending = null;
        worker.unref();
        reject(new CannotCross(error));
      }
    });
  }
}

/** `batch` with each record that cannot be structured-cloned replaced by its reduced form (noted in `warnings`). */
function crossable(
  batch: readonly (PendingExchange | ExchangeRecord)[],
  warnings: string[],
): (PendingExchange | ExchangeRecord)[] {
  return batch.map((exchange) => {
    try {
      structuredClone(exchange);
      return exchange;
    } catch (error) {
      const reason = `cannot cross to the record worker: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
      warnings.push(`exchange ${exchange.id} (request ${exchange.requestId}) recorded in reduced form: ${reason}`);
      return reducedExchange(exchange, reason);
    }
  });
}

/** tsx's ESM register API, resolved from this package (not from the process's working directory). */
function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve("tsx/package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    exports: Record<string, { import: { default: string } | string }>;
  };
  const entry = manifest.exports["./esm/api"]!.import;
  return pathToFileURL(path.join(path.dirname(manifestPath), typeof entry === "string" ? entry : entry.default)).href;
}
