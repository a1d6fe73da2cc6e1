/**
 * `llm-relay serve`: loads the config, starts the proxy, and stops it
 * cleanly (`close()`: in-flight exchanges finished, records drained) on
 * SIGINT/SIGTERM, or when the npm process that started it is gone
 * (stop-signals.ts); a second signal exits at once.
 */
import v8 from "node:v8";
import { ConfigError, loadConfig } from "../config/load.js";
import { startRelayServer } from "../server/relay-server.js";
import { exitOnStopRequest } from "./stop-signals.js";

/** Flags of `serve`. */
export interface ServeFlags {
  host?: string;
  port?: number;
  config?: string;
  db?: string;
  /** `--database-url <url>`: record into PostgreSQL instead of the SQLite `db`. */
  databaseUrl?: string;
  /** commander's `--no-record` sets this to false. */
  record?: boolean;
  /** `--debug`. */
  debug?: boolean;
  /** `--allow-unauthenticated`: serve a non-loopback host although requests need no key. */
  allowUnauthenticated?: boolean;
  /** `--max-json-depth <n>`. */
  maxJsonDepth?: number;
  /** `--body-timeout-ms <ms>`. */
  bodyTimeoutMs?: number;
  /** `--max-body-mb-in-flight <mb>`. */
  maxBodyMbInFlight?: number;
}

/**
 * V8's growing factor for the old generation, in percent over the live size
 * after a full GC. By default V8 lets the old generation grow up to about 4 ×
 * the live size before the next full GC; under load the proxy's live heap is
 * about 30 MB while its garbage (promoted request objects) filled 100+ MB.
 * Measured with `bench:proxy` (c=50/200, pinned): 50 % took peak RSS from
 * 214–248 MB to 150–187 MB at the same throughput; 20 % saved a little more
 * memory but cost streams about a fifth of their throughput (more full GCs).
 */
export const HEAP_GROWING_PERCENT = 50;

/** Caps the old generation's growth (process-wide, the recorder's worker included) unless node was given its own value. */
function tuneHeap(): void {
  // (node refuses this flag in NODE_OPTIONS; only a command-line value can override ours)
  const given = process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg));
  if (!given) v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/** Runs the server until a signal stops it. Exits with 1 on a bad config, a taken port, or a non-loopback host nobody needs a key for (see `server/bind-check.ts`). */
export async function runServe(flags: ServeFlags): Promise<void> {
  tuneHeap();
  let config;
  try {
    config = loadConfig({
      ...(flags.config !== undefined ? { configPath: flags.config } : {}),
      ...(flags.host !== undefined ? { host: flags.host } : {}),
      ...(flags.port !== undefined ? { port: flags.port } : {}),
      ...(flags.db !== undefined ? { db: flags.db } : {}),
      ...(flags.databaseUrl !== undefined ? { databaseUrl: flags.databaseUrl } : {}),
      ...(flags.record === false ? { record: false } : {}),
      ...(flags.debug ? { debug: true } : {}),
      ...(flags.allowUnauthenticated ? { allowUnauthenticated: true } : {}),
      ...(flags.maxJsonDepth !== undefined ? { maxJsonDepth: flags.maxJsonDepth } : {}),
      ...(flags.bodyTimeoutMs !== undefined ? { bodyTimeoutMs: flags.bodyTimeoutMs } : {}),
      ...(flags.maxBodyMbInFlight !== undefined ? { maxBodyMbInFlight: flags.maxBodyMbInFlight } : {}),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`llm-relay: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  let server;
  try {
    server = await startRelayServer(config);
  } catch (error) {
    process.stderr.write(`llm-relay: cannot start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  exitOnStopRequest(server, (reason) => server.ctx.logger.info({ reason }, "stop requested"));
}
