/** The browser's read model of the record store a proxy's (or `llm-relay ui`'s) config names. */
import { openBrowseStore } from "../../browse/open.js";
import type { BrowseStore } from "../../browse/types.js";
import type { RelayConfig } from "../../config/load.js";

/**
 * Opens the `BrowseStore` of `config`'s store: PostgreSQL with `databaseUrl`, else the SQLite `dbPath`.
 * @param schemaReady true when the caller has opened a `SqliteStore` on `config.dbPath` already (schema complete)
 * @throws what the stores' `open` throws (unreadable file, newer schema, unreachable server)
 */
export function openServerBrowseStore(
  config: Pick<RelayConfig, "databaseUrl" | "dbPath">,
  schemaReady: boolean,
): Promise<BrowseStore> {
  return openBrowseStore(config.databaseUrl ? { databaseUrl: config.databaseUrl } : { dbPath: config.dbPath }, {
    schemaReady,
  });
}
