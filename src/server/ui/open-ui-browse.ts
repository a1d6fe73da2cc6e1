/**
 * Opens the proxy's `BrowseStore` for `/ui` without loading what a SQLite proxy does not use: on SQLite,
 * when the proxy's own store has already brought the file's schema up to date (`SqliteStore.open`:
 * tables, triggers, the summary tables' backfill), only the read-only `SqliteBrowseStore` is loaded;
 * otherwise `browse/open.ts` (which loads the PostgreSQL store and driver) does the whole opening.
 */
import type { BrowseStore } from "../../browse/types.js";
import type { RelayConfig } from "../../config/load.js";

/**
 * The read model of the proxy's record store.
 * @param schemaReady true when the proxy opened its own `SqliteStore` on `config.dbPath` (schema complete)
 * @throws what the stores' `open` throws (unreadable file, unreachable server)
 */
export async function openServerBrowseStore(
  config: Pick<RelayConfig, "databaseUrl" | "dbPath">,
  schemaReady: boolean,
): Promise<BrowseStore> {
  if (!config.databaseUrl && schemaReady)
    return (await import("../../browse/sqlite-browse.js")).SqliteBrowseStore.open(config.dbPath);
  const { openBrowseStore } = await import("../../browse/open.js");
  return openBrowseStore(config.databaseUrl ? { databaseUrl: config.databaseUrl } : { dbPath: config.dbPath });
}
