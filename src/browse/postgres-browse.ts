/**
 * The conversation browser's queries on PostgreSQL (the `postgres` package): the statements of
 * browse-sql.ts with their placeholders numbered `$n`. Read-only: the database may be shared by
 * several proxies, and nothing here writes.
 */
import type { Sql } from "postgres";
import { numberedPlaceholders } from "../recording/log-query-sql.js";
import { pgConnection } from "../recording/postgres/pg-store.js";
import { BrowseQueries, type BrowseOptions } from "./browse-core.js";
import type { BrowseStatement } from "./browse-sql.js";
import type { BrowseStore } from "./types.js";

/** A {@link BrowseStore} over a PostgreSQL record store whose migrations (version 7 or later) have run. */
export class PgBrowseStore extends BrowseQueries implements BrowseStore {
  /**
   * @param sql a connection pool
   * @param owned true when {@link close} should end the pool
   * @param options where counts stop
   */
  constructor(
    private readonly sql: Sql,
    private readonly owned: boolean,
    options: BrowseOptions = {},
  ) {
    super(
      async <T>(statement: BrowseStatement) => {
        const rows = await sql.unsafe(numberedPlaceholders(statement.text), statement.params);
        return [...rows] as T[];
      },
      "postgres",
      options,
    );
  }

  /**
   * Connects to `url` (a pool of at most `max` connections, default 2).
   * @throws PgStoreError for a bad schema name
   */
  static connect(url: string, options: { schema?: string; max?: number } & BrowseOptions = {}): PgBrowseStore {
    return new PgBrowseStore(
      pgConnection(url, { max: options.max ?? 2, ...(options.schema !== undefined ? { schema: options.schema } : {}) }),
      true,
      {
        ...(options.countCap !== undefined ? { countCap: options.countCap } : {}),
        ...(options.searchProbe !== undefined ? { searchProbe: options.searchProbe } : {}),
      },
    );
  }

  async close(): Promise<void> {
    if (this.owned) await this.sql.end({ timeout: 5 });
  }
}
