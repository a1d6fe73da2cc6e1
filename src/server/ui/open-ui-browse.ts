/**
 * Opens a `BrowseStore` for `/ui` without loading what a SQLite store does not use: on SQLite only the
 * read-only `SqliteBrowseStore` (after `SqliteStore.open` has brought the file's schema up to date —
 * tables, triggers, the summary tables' backfill — unless the proxy's own store just did); on PostgreSQL
 * `browse/open.ts`, which loads the PostgreSQL store and driver.
 */
import type { BrowseStore } from "../../browse/types.js";
import type { RelayConfig } from "../../config/load.js";

/**
 * The read model of the record store `config` names.
 * @param schemaReady true when the caller has opened a `SqliteStore` on `config.dbPath` already (schema complete)
 * @throws what the stores' `open` throws (unreadable file, newer schema, unreachable server)
 */
export async function openServerBrowseStore(
  config: Pick<RelayConfig, "databaseUrl" | "dbPath">,
  schemaReady: boolean,
): Promise<BrowseStore> {
  if (config.databaseUrl) {
    const { openBrowseStore } = await import("../../browse/open.js");
    return openBrowseStore({ databaseUrl: config.databaseUrl });
  }
  if (!schemaReady) (await import("../../recording/sqlite/sqlite-store.js")).SqliteStore.open(config.dbPath).close();
  return (await import("../../browse/sqlite-browse.js")).SqliteBrowseStore.open(config.dbPath);
}
