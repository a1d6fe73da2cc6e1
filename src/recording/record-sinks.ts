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
export type WorkerReply = { type: "ready" } | { type: "written"; result: BatchResult } | { type: "closed" } | { type: "failed"; error: string };

/**
 * Writes in a worker thread that opens its own connection to the SQLite
 * file at `dbPath`.
 */
export class WorkerSink implements RecordSink {
  private worker: Worker | null = null;
  private pending: { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void } | null = null;

  /**
   * Starts the worker and waits until it has opened the database.
   * @throws when the worker cannot open the database
   */
  static async start(dbPath: string): Promise<WorkerSink> {
    const sink = new WorkerSink(dbPath);
    await sink.spawn();
    return sink;
  }

  private constructor(private readonly dbPath: string) {}

  /** Starts a worker thread and resolves once it has opened the database. */
  private spawn(): Promise<void> {
    const typescript = import.meta.url.endsWith(".ts");
    const url = new URL(`./record-worker${typescript ? ".ts" : ".js"}`, import.meta.url);
    const workerData = { dbPath: this.dbPath };
    const options = { workerData, resourceLimits: WORKER_RESOURCE_LIMITS };
    const worker = typescript
      ? // Under the test runner the sources are TypeScript: the worker loads them through tsx (a devDependency).
        new Worker(`import(${JSON.stringify(tsxApiUrl())}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, ...options })
      : new Worker(url, options);
    worker.unref();
    this.worker = worker;
    const ready = new Promise<void>((resolve, reject) => {
      this.pending = { resolve: () => resolve(), reject };
    });
    worker.on("message", (reply: WorkerReply) => {
      const pending = this.pending;
      this.pending = null;
      if (reply.type === "failed") pending?.reject(new Error(reply.error));
      else pending?.resolve(reply);
    });
    worker.on("error", (error) => {
      this.pending?.reject(error);
      this.pending = null;
    });
    worker.on("exit", (code) => {
      // A worker that died is replaced on the next batch; the batch it held is reported as failed.
      if (this.worker === worker) this.worker = null;
      this.pending?.reject(new Error(`record worker exited with code ${code}`));
      this.pending = null;
    });
    return ready;
  }

  async write(batch: readonly (PendingExchange | ExchangeRecord)[]): Promise<BatchResult> {
    if (!this.worker) await this.spawn();
    const reply = await this.request({ type: "write", batch });
    if (reply.type !== "written") throw new Error(`record worker answered ${reply.type}`);
    return reply.result;
  }

  async writeEmbeddings(records: readonly EmbeddingExchange[]): Promise<BatchResult> {
    if (!this.worker) await this.spawn();
    const reply = await this.request({ type: "write-embeddings", records });
    if (reply.type !== "written") throw new Error(`record worker answered ${reply.type}`);
    return reply.result;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.request({ type: "close" }).catch(() => undefined);
    this.worker = null;
    await worker.terminate();
  }

  private request(message: WorkerRequest): Promise<WorkerReply> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error("record worker is not running"));
    if (this.pending) return Promise.reject(new Error("record worker is busy"));
    return new Promise<WorkerReply>((resolve, reject) => {
      this.pending = { resolve, reject };
      worker.postMessage(message);
    });
  }
}

/** tsx's ESM register API, resolved from this package (not from the process's working directory). */
function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve("tsx/package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { exports: Record<string, { import: { default: string } | string }> };
  const entry = manifest.exports["./esm/api"]!.import;
  return pathToFileURL(path.join(path.dirname(manifestPath), typeof entry === "string" ? entry : entry.default)).href;
}
