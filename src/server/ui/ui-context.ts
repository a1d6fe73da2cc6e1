/**
 * What the browser's routes (`/ui`, `/ui/api/*`) need, whoever serves them: the proxy
 * (`serve`, with a Live page) or `llm-relay ui` (the records only). Built by
 * `uiContextOfServer` for the proxy and by `cli/ui.ts` for the command.
 */
import type { Logger } from "pino";
import type { BrowseStore } from "../../browse/types.js";
import type { TenantBudget } from "../../config/load.js";
import type { TenancyStore } from "../../tenancy/store.js";
import { VERSION } from "../../version.js";
import type { ServerContext } from "../context.js";
import type { InFlightInfo } from "../in-flight.js";
import { isLoopbackHost } from "../bind-check.js";
import { healthAnswer } from "../routes/health.js";
import type { UiInfo } from "./api-types.js";

/** What is going on now in a running proxy, for the Live page. */
export interface LiveSource {
  /** The exchanges in flight, oldest first. */
  inFlight(): InFlightInfo[];
  /** Exchanges waiting in the recorder's queue. */
  recorderQueued(): number;
  /** The body `GET /health` answers now. */
  health(): Record<string, unknown>;
  /**
   * Calls `listener` when an exchange starts or ends.
   * @returns a function that removes it
   */
  onChange(listener: () => void): () => void;
}

/** The browser's view of one server. */
export interface UiContext {
  /** The record store's read model. */
  browse: BrowseStore;
  /** API keys and the usage ledger (budgets), or null when there is none to read. */
  tenancy: TenancyStore | null;
  /** Tenant budgets of the config (`tenants:`). */
  tenantBudgets: Record<string, TenantBudget>;
  /**
   * Whether the UI needs the master key: API keys exist (or `auth: required`), or it is served off loopback with
   * a master key set. Fails closed: an error counts as true.
   */
  keysRequired(): Promise<boolean>;
  /** LLM_RELAY_MASTER_KEY, or null when not set. */
  masterKey: string | null;
  /** What is in flight, or null (`llm-relay ui` proxies nothing). */
  live: LiveSource | null;
  /** The SQLite logs.db holding the bench tables, or null (PostgreSQL: no bench runs). */
  benchDbPath: string | null;
  /** The facts of `GET /ui/api/info` but `auth` (asked per request). */
  info: Omit<UiInfo, "auth">;
  logger: Logger;
}

/** The UI context of a running proxy: its store, tenancy, admission's key check and its in-flight set. */
export function uiContextOfServer(ctx: ServerContext, browse: BrowseStore): UiContext {
  const sqlitePath = ctx.config.databaseUrl ? null : ctx.config.dbPath;
  return {
    browse,
    tenancy: ctx.tenancy,
    tenantBudgets: ctx.config.tenantBudgets ?? {},
    // Off loopback with a master key, the UI always asks for it (the records are more than the proxy lends).
    keysRequired: async () =>
      (!isLoopbackHost(ctx.config.host) && ctx.config.masterKey !== undefined) || ctx.admission.keysRequired(),
    masterKey: ctx.config.masterKey ?? null,
    live: {
      inFlight: () => ctx.inFlight.list(),
      recorderQueued: () => ctx.recorder.queued,
      health: () => healthAnswer(ctx).body,
      onChange: (listener) => ctx.inFlight.onChange(listener),
    },
    benchDbPath: sqlitePath,
    info: {
      version: VERSION,
      store: sqlitePath === null ? { engine: "postgresql", path: null } : { engine: "sqlite", path: sqlitePath },
      live: true,
    },
    logger: ctx.logger,
  };
}
