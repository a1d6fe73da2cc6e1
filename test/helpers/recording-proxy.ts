/**
 * The real proxy with a record store that keeps every ExchangeRecord it is
 * given (as the recorder assembled it: reasoning, usage details, cost)
 * before writing it into a real SQLite logs.db, so tests can read both the
 * records and the file.
 */
import fs from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { loadConfig, type RelayConfig } from "../../src/config/load.js";
import { asModelGroups, type Deployment } from "../../src/config/schema.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { ExchangeRecord, LogQuery, LogRow, RecordStore } from "../../src/recording/types.js";
import type { RecordedExchangeLookup } from "../../src/protocol/inbound.js";
import { startRelayServer, type RelayServer } from "../../src/server/relay-server.js";
import { tempDir } from "./proxy.js";
import { until } from "./until.js";

/** A SqliteStore that also keeps the records it writes. */
class KeepingStore implements RecordStore {
  readonly records: ExchangeRecord[] = [];
  readonly booksUsage: boolean;
  constructor(private readonly inner: SqliteStore) {
    this.booksUsage = inner.booksUsage;
  }
  writeBatch(records: readonly ExchangeRecord[]): void {
    this.inner.writeBatch(records);
    this.records.push(...records);
  }
  isWritable(): boolean {
    return this.inner.isWritable();
  }
  listResponses(query: LogQuery): LogRow[] {
    return this.inner.listResponses(query);
  }
  findExchange(id: string, tenantId: string): RecordedExchangeLookup | null {
    return this.inner.findExchange(id, tenantId);
  }
  close(): void {
    this.inner.close();
  }
}

/** A running proxy whose records can be read back. */
export interface RecordingProxy {
  server: RelayServer;
  /** `http://127.0.0.1:PORT/v1` */
  baseURL: string;
  dbPath: string;
  /** The record of the request with this `x-request-id`, once written (waits for it, flushing the recorder). */
  recordOf(requestId: string): Promise<ExchangeRecord>;
  close(): Promise<void>;
}

/**
 * Starts the proxy with `models` (config key → deployment) on a fresh
 * SQLite file, records written in this thread (no worker) through a store
 * that keeps them. `env` is what providers read API keys from.
 */
export async function startRecordingProxy(
  models: Record<string, Deployment>,
  env: NodeJS.ProcessEnv = {},
): Promise<RecordingProxy> {
  const dir = tempDir("llm-relay-recording-");
  const dbPath = path.join(dir, "logs.db");
  const base = loadConfig({ cwd: dir, env: {}, db: dbPath, port: 0 });
  const config: RelayConfig = { ...base, models: { ...base.models, ...asModelGroups(models, base.routing) } };
  const store = new KeepingStore(SqliteStore.open(dbPath));
  const server = await startRelayServer(config, { logger: pino({ level: "silent" }), env, store });
  return {
    server,
    baseURL: `${server.url}/v1`,
    dbPath,
    async recordOf(requestId) {
      const found = () => store.records.filter((r) => r.requestId === requestId);
      // A stream's exchange is handed to the recorder as its response ends, maybe after the client read it.
      await until(`the record of ${requestId}`, async () => {
        await server.ctx.recorder.flush();
        return found().length > 0;
      });
      if (found().length !== 1) throw new Error(`${found().length} records of ${requestId}`);
      return found()[0]!;
    },
    async close() {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
