/**
 * The conversation browser's queries on a SQLite logs.db: its own **read-only** better-sqlite3
 * connection (in WAL mode readers never wait for the record worker's writes; see
 * https://sqlite.org/wal.html), each statement prepared once and kept.
 */
import Database, { type Database as Db, type Statement } from "better-sqlite3";
import { BrowseQueries, type BrowseOptions } from "./browse-core.js";
import type { BrowseStatement } from "./browse-sql.js";
import type { BrowseStore } from "./types.js";

/** How long a read waits for a lock (ms): only a checkpoint's brief exclusive moments can hold one in WAL mode. */
const BUSY_TIMEOUT_MS = 2_000;

/** A {@link BrowseStore} over a logs.db whose schema (llm-relay's, version 7 or later) already exists. */
export class SqliteBrowseStore extends BrowseQueries implements BrowseStore {
  private constructor(
    private readonly db: Db,
    statements: Map<string, Statement>,
    options: BrowseOptions,
  ) {
    super(
      (statement: BrowseStatement) => {
        let prepared = statements.get(statement.text);
        if (!prepared) {
          prepared = db.prepare(statement.text);
          statements.set(statement.text, prepared);
        }
        return Promise.resolve(prepared.all(...statement.params) as never[]);
      },
      "sqlite",
      options,
    );
  }

  /**
   * Opens `path` read-only (`options.countCap`: where counts stop). Use `openBrowseStore` (open.ts) to create or complete the schema first.
   * @throws when the file does not exist, is not SQLite, or lacks `llm_relay_conversation_stats`
   */
  static open(path: string, options: BrowseOptions = {}): SqliteBrowseStore {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      const hasStats = db
        .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'llm_relay_conversation_stats'`)
        .get();
      if (hasStats === undefined)
        throw new Error(`${path} has no llm_relay_conversation_stats: open it once with this llm-relay's record store`);
      return new SqliteBrowseStore(db, new Map(), options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}
