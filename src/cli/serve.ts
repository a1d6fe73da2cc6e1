/**
 * `llm-relay serve`: loads the config, starts the proxy, and stops it
 * cleanly on SIGINT/SIGTERM (a second signal exits at once).
 */
import { ConfigError, loadConfig } from "../config/load.js";
import { startRelayServer } from "../server/relay-server.js";

/** Flags of `serve`. */
export interface ServeFlags {
  host?: string;
  port?: number;
  config?: string;
  db?: string;
  /** commander's `--no-record` sets this to false. */
  record?: boolean;
  /** `--debug`. */
  debug?: boolean;
}

/** Runs the server until a signal stops it. Exits with 1 on a bad config or a taken port. */
export async function runServe(flags: ServeFlags): Promise<void> {
  let config;
  try {
    config = loadConfig({
      ...(flags.config !== undefined ? { configPath: flags.config } : {}),
      ...(flags.host !== undefined ? { host: flags.host } : {}),
      ...(flags.port !== undefined ? { port: flags.port } : {}),
      ...(flags.db !== undefined ? { db: flags.db } : {}),
      ...(flags.record === false ? { record: false } : {}),
      ...(flags.debug ? { debug: true } : {}),
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
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`llm-relay: ${signal} again, exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`llm-relay: error while stopping: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
