/** Read-only access to a proxy's SQLite file from tests. */
import Database from "better-sqlite3";

/** Runs `fn` on a read-only connection to `path` and closes it. */
export function withDb<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** All rows of a query. */
export function rows<T = Record<string, unknown>>(path: string, sql: string, ...params: unknown[]): T[] {
  return withDb(path, (db) => db.prepare(sql).all(...params) as T[]);
}
