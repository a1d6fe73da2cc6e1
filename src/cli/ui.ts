/**
 * `llm-relay ui [--db FILE | --database-url URL] [--host 127.0.0.1] [--port 11436] [--config FILE]`:
 * the conversation browser over a record store, without the proxy (no `/v1`, no Live page). The same
 * routes as the proxy's `/ui` (`server/ui/register-ui.ts`); the login rules too (API keys in the store:
 * the master key is needed). A non-loopback `--host` is refused without `LLM_RELAY_MASTER_KEY`, and with
 * one the UI always asks for it there. Stops on SIGINT/SIGTERM (`stop-signals.ts`).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { BrowseStore } from "../browse/types.js";
import { ConfigError, loadConfig, type RelayConfig } from "../config/load.js";
import { createLogger } from "../logging/logger.js";
import { isLoopbackHost } from "../server/bind-check.js";
import { installErrorHandlers } from "../server/errors.js";
import { openServerBrowseStore } from "../server/ui/open-ui-browse.js";
import { registerUi } from "../server/ui/register-ui.js";
import type { UiContext } from "../server/ui/ui-context.js";
import { openTenancyStore, targetOfConfig } from "../tenancy/open-store.js";
import type { TenancyStore } from "../tenancy/store.js";
import { VERSION } from "../version.js";
import { exitOnStopRequest } from "./stop-signals.js";

/** The default port of `llm-relay ui` (the proxy's is 11435). */
export const DEFAULT_UI_PORT = 11436;

/** Flags of `ui`. */
export interface UiFlags {
  /** `--db <path>`: a SQLite logs.db. */
  db?: string;
  /** `--database-url <url>`: a PostgreSQL store instead. */
  databaseUrl?: string;
  /** `--host <host>` (default 127.0.0.1). */
  host?: string;
  /** `--port <port>` (default {@link DEFAULT_UI_PORT}; 0: any free one). */
  port?: number;
  /** `-c, --config <file>`: where the store, the master key's rules and tenant budgets come from. */
  config?: string;
}

/** A running `llm-relay ui`. */
export interface UiServer {
  app: FastifyInstance;
  /** `http://host:port` */
  url: string;
  close(): Promise<void>;
}

/** `llm-relay ui` refused to listen on a non-loopback host without a master key. */
export class UnsafeUiBindError extends Error {
  constructor(host: string) {
    super(
      `refusing to serve the conversation browser on ${host} without LLM_RELAY_MASTER_KEY: anyone who can reach this port could read every recorded exchange. Set LLM_RELAY_MASTER_KEY (the page then asks for it), or bind 127.0.0.1.`,
    );
    this.name = "UnsafeUiBindError";
  }
}

/**
 * Opens the store of `config` and serves the UI on `host:port` (port 0 picks a free one).
 * @throws UnsafeUiBindError on a non-loopback host without a master key; the store's error when it cannot be opened; a listen error
 */
export async function startUiServer(config: RelayConfig, host: string, port: number): Promise<UiServer> {
  const remote = !isLoopbackHost(host);
  if (remote && config.masterKey === undefined) throw new UnsafeUiBindError(host);
  const logger = createLogger(config.logLevel);
  const target = targetOfConfig(config);
  const browse: BrowseStore = await openServerBrowseStore(config, false);
  let tenancy: TenancyStore;
  try {
    tenancy = await openTenancyStore(target);
  } catch (error) {
    await browse.close();
    throw error;
  }
  const ui: UiContext = {
    browse,
    tenancy,
    tenantBudgets: config.tenantBudgets ?? {},
    // Off loopback the UI always asks for the master key; on loopback, once API keys exist (as the proxy does).
    keysRequired: async () => {
      if (remote || config.auth === "required") return true;
      if (config.auth === "off") return false;
      return tenancy.keys.anyKeys().catch(() => true);
    },
    masterKey: config.masterKey ?? null,
    live: null,
    benchDbPath: config.databaseUrl ? null : config.dbPath,
    info: {
      version: VERSION,
      store: config.databaseUrl ? { engine: "postgresql", path: null } : { engine: "sqlite", path: config.dbPath },
      live: false,
    },
    logger,
  };
  // Typed as Fastify's logger interface, so the app is FastifyInstance's default (as the proxy's `buildApp`).
  const fastifyLogger: FastifyBaseLogger = logger;
  // As the proxy: no line per request (a page load is a dozen requests); errors are logged by the handlers.
  const app = Fastify({
    loggerInstance: fastifyLogger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
  });
  installErrorHandlers(app, 1024 * 1024);
  registerUi(app, ui);
  const closeStores = async () => {
    await browse.close();
    await tenancy.close();
  };
  try {
    await app.listen({ host, port });
  } catch (error) {
    await closeStores();
    throw error;
  }
  const address = app.server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${bound}`;
  let closing: Promise<void> | null = null;
  return {
    app,
    url,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await closeStores();
      })()),
  };
}

/** Runs `llm-relay ui` until a signal stops it. Exits with 1 on a bad config, a store that cannot be opened, a taken port or an unsafe host. */
export async function runUi(flags: UiFlags): Promise<void> {
  let config: RelayConfig;
  try {
    config = loadConfig({
      ...(flags.config !== undefined ? { configPath: flags.config } : {}),
      ...(flags.db !== undefined ? { db: flags.db } : {}),
      ...(flags.databaseUrl !== undefined ? { databaseUrl: flags.databaseUrl } : {}),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`llm-relay: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  // --db names a SQLite file even when the environment or the config names a PostgreSQL database.
  if (flags.db !== undefined && flags.databaseUrl === undefined) delete config.databaseUrl;
  let server: UiServer;
  try {
    server = await startUiServer(config, flags.host ?? "127.0.0.1", flags.port ?? DEFAULT_UI_PORT);
  } catch (error) {
    process.stderr.write(`llm-relay: cannot start the UI: ${(error as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(
    `llm-relay ui: browsing ${config.databaseUrl ? "PostgreSQL" : config.dbPath} at ${server.url}/ui/\n`,
  );
  exitOnStopRequest(server);
}
