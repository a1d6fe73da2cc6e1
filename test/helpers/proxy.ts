/**
 * Starts the real proxy in-process on an ephemeral loopback port with a
 * fresh SQLite file, for tests.
 */
import fs from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { loadConfig, type LibraryConfigInput, type RelayConfig } from "../../src/config/load.js";
import { startRelayServer, type RelayServer } from "../../src/server/relay-server.js";
import type { RecorderOptions } from "../../src/recording/recorder.js";
import { asModelGroups, deploymentDefaults, type Deployment } from "../../src/config/schema.js";
import { tempDir } from "./temp-dirs.js";

/** A proxy under test. */
export interface TestProxy {
  server: RelayServer;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `http://127.0.0.1:PORT/v1` */
  baseURL: string;
  dbPath: string;
  dir: string;
  close(): Promise<void>;
}

/** A deployment of the fake upstream. */
export function fakeDeployment(baseUrl: string, extra: Partial<Deployment> = {}): Deployment {
  return {
    ...deploymentDefaults("openai-compatible"),
    base_url: baseUrl,
    timeout_ms: 2_000,
    connect_timeout_ms: 1_000,
    ...extra,
  };
}

/** A temp directory, removed after the test file if the caller does not remove it (./temp-dirs.ts). */
export { tempDir };

/**
 * Starts a proxy. `overrides` replace fields of the default config (no
 * config file: `default_model` is `echo`). `options.env` is the environment
 * the providers read API keys from (empty by default).
 */
export async function startTestProxy(
  overrides: LibraryConfigInput = {},
  options: {
    env?: NodeJS.ProcessEnv;
    rateLimitKeyPrefix?: string;
    idempotencyPurgeIntervalMs?: number;
    recorder?: RecorderOptions;
    providerClock?: () => number;
    /** The record worker's busy timeout, in ms (default 5000). */
    recordBusyTimeoutMs?: number;
  } = {},
): Promise<TestProxy> {
  const dir = tempDir();
  const dbPath = path.join(dir, "logs.db");
  const base = loadConfig({ cwd: dir, env: {}, db: dbPath, port: 0 });
  const config: RelayConfig = {
    ...base,
    ...overrides,
    models: { ...base.models, ...asModelGroups(overrides.models ?? {}, overrides.routing ?? base.routing) },
  };
  const server = await startRelayServer(config, {
    logger: pino({ level: "silent" }),
    env: options.env ?? {},
    ...(options.rateLimitKeyPrefix ? { rateLimitKeyPrefix: options.rateLimitKeyPrefix } : {}),
    ...(options.idempotencyPurgeIntervalMs ? { idempotencyPurgeIntervalMs: options.idempotencyPurgeIntervalMs } : {}),
    ...(options.recorder ? { recorder: options.recorder } : {}),
    ...(options.providerClock ? { providerClock: options.providerClock } : {}),
    ...(options.recordBusyTimeoutMs ? { recordBusyTimeoutMs: options.recordBusyTimeoutMs } : {}),
  });
  return {
    server,
    url: server.url,
    baseURL: `${server.url}/v1`,
    dbPath,
    dir,
    async close() {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
