/**
 * Opens the conversation browser's read model on a record store: the store is first opened as the
 * recorder opens it (creating or completing the schema — tables, triggers, indexes — and backfilling
 * the summary tables), then the read-only {@link BrowseStore} is opened on it.
 */
import { SqliteStore } from "../recording/sqlite/sqlite-store.js";
import { SqliteBrowseStore } from "./sqlite-browse.js";
import type { BrowseStore } from "./types.js";
import type { BrowseOptions } from "./browse-core.js";

/** How {@link openBrowseStore} opens a store. */
export interface OpenBrowseOptions extends BrowseOptions {
  /** True when the caller has just opened the SQLite record store on the same file (its schema is complete): no second open. */
  schemaReady?: boolean;
}

/** Where the records are: a SQLite logs.db, or a PostgreSQL database (`postgres://…`, optionally a schema). */
export type BrowseTarget = { dbPath: string } | { databaseUrl: string; schema?: string };

/**
 * Brings the store's schema up to date and opens a {@link BrowseStore} on it.
 * The PostgreSQL store and driver are loaded only for a PostgreSQL target (a SQLite proxy does not carry them).
 * @param options where counts stop (default 10,000); `schemaReady`
 * @throws what `SqliteStore.open` / `PgStore.open` throw (unreadable file, newer schema, unreachable server)
 */
export async function openBrowseStore(target: BrowseTarget, options: OpenBrowseOptions = {}): Promise<BrowseStore> {
  const { schemaReady, ...browseOptions } = options;
  if ("dbPath" in target) {
    if (!schemaReady) SqliteStore.open(target.dbPath).close();
    return SqliteBrowseStore.open(target.dbPath, browseOptions);
  }
  const { PgStore } = await import("../recording/postgres/pg-store.js");
  const { PgBrowseStore } = await import("./postgres-browse.js");
  const schema = target.schema !== undefined ? { schema: target.schema } : {};
  const store = await PgStore.open(target.databaseUrl, schema);
  await store.close();
  return PgBrowseStore.connect(target.databaseUrl, { ...schema, ...browseOptions });
}
