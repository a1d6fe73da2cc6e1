/**
 * Opens the conversation browser's read model on a record store: the store is first opened as the
 * recorder opens it (creating or completing the schema — tables, triggers, indexes — and backfilling
 * the summary tables), then the read-only {@link BrowseStore} is opened on it.
 */
import { PgStore } from "../recording/postgres/pg-store.js";
import { SqliteStore } from "../recording/sqlite/sqlite-store.js";
import { PgBrowseStore } from "./postgres-browse.js";
import { SqliteBrowseStore } from "./sqlite-browse.js";
import type { BrowseStore } from "./types.js";
import type { BrowseOptions } from "./browse-core.js";

/** Where the records are: a SQLite logs.db, or a PostgreSQL database (`postgres://…`, optionally a schema). */
export type BrowseTarget = { dbPath: string } | { databaseUrl: string; schema?: string };

/**
 * Brings the store's schema up to date and opens a {@link BrowseStore} on it.
 * @param options where counts stop (default 10,000)
 * @throws what `SqliteStore.open` / `PgStore.open` throw (unreadable file, newer schema, unreachable server)
 */
export async function openBrowseStore(target: BrowseTarget, options: BrowseOptions = {}): Promise<BrowseStore> {
  if ("dbPath" in target) {
    SqliteStore.open(target.dbPath).close();
    return SqliteBrowseStore.open(target.dbPath, options);
  }
  const schema = target.schema !== undefined ? { schema: target.schema } : {};
  const store = await PgStore.open(target.databaseUrl, schema);
  await store.close();
  return PgBrowseStore.connect(target.databaseUrl, { ...schema, ...options });
}
