/**
 * Which database the tenancy store lives in, and opening it: PostgreSQL
 * when a `database_url` is given (flag, config), else the proxy's SQLite
 * logs.db (flag `--db`, `$LLM_RELAY_DB`, the config's `db`, the default
 * data dir), the same file the recorder writes.
 */
import { loadConfig, type RelayConfig } from "../config/load.js";
import type { PostgresTenancyOptions } from "./postgres/postgres-tenancy-store.js";
import { SqliteTenancyStore } from "./sqlite/sqlite-tenancy-store.js";
import type { TenancyStore } from "./store.js";

/** Where a tenancy store lives. */
export type TenancyTarget =
  { kind: "postgres"; databaseUrl: string; options?: PostgresTenancyOptions } | { kind: "sqlite"; path: string };

/** What names the database; the first one given wins, in this order. */
export interface TargetOptions {
  /** A PostgreSQL URL (`postgres://…`). */
  databaseUrl?: string;
  /** A SQLite file (relative to `cwd`). */
  db?: string;
  /** A config file, read with `loadConfig` (also read when neither of the above is given). */
  config?: string;
  /** Environment for `loadConfig` (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Directory relative paths resolve against (default the process's). */
  cwd?: string;
}

/**
 * The database of the config: PostgreSQL when it has a `databaseUrl`
 * (`--database-url`, `$LLM_RELAY_DATABASE_URL`, a postgres `$DATABASE_URL`,
 * or `database_url`, as `loadConfig` resolves them), else its SQLite `dbPath`.
 */
export function targetOfConfig(config: RelayConfig): TenancyTarget {
  return config.databaseUrl
    ? { kind: "postgres", databaseUrl: config.databaseUrl }
    : { kind: "sqlite", path: config.dbPath };
}

/**
 * The target named by flags/options: `databaseUrl`, else `db`, else the
 * config's database (see {@link targetOfConfig}).
 * @throws ConfigError when the config file cannot be read or is invalid
 */
export function resolveTenancyTarget(options: TargetOptions = {}): TenancyTarget {
  if (options.databaseUrl) return { kind: "postgres", databaseUrl: options.databaseUrl };
  const env = options.env ?? process.env;
  const config = loadConfig({
    ...(options.config ? { configPath: options.config } : {}),
    ...(options.db ? { db: options.db } : {}),
    env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  if (options.db) return { kind: "sqlite", path: config.dbPath };
  return targetOfConfig(config);
}

/**
 * Opens the tenancy store of a target (creating the SQLite file, or
 * migrating the PostgreSQL database, as needed).
 * @throws when the database cannot be opened, reached or migrated
 */
export async function openTenancyStore(target: TenancyTarget): Promise<TenancyStore> {
  if (target.kind === "sqlite") return SqliteTenancyStore.open(target.path);
  // Loaded only for PostgreSQL: a SQLite proxy does not carry the driver.
  const { PostgresTenancyStore } = await import("./postgres/postgres-tenancy-store.js");
  return PostgresTenancyStore.open(target.databaseUrl, target.options);
}

/** A short description of a target for messages, without a password (`postgres://user@host/db`, or the file path). */
export function describeTarget(target: TenancyTarget): string {
  if (target.kind === "sqlite") return target.path;
  try {
    const url = new URL(target.databaseUrl);
    url.password = "";
    return url.toString();
  } catch {
    return "PostgreSQL";
  }
}
