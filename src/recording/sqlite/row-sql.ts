/**
 * SQLite statements generated from a table's column list (the builder's
 * `*_COLUMNS`, src/recording/exchange-rows.ts), so a column added to the
 * builder reaches the SQL without editing it here.
 */

/** The insert verbs the store uses (https://sqlite.org/lang_insert.html). */
export type InsertVerb = "INSERT" | "INSERT OR IGNORE" | "INSERT OR REPLACE";

/**
 * `<verb> INTO <table> (a, b) VALUES (@a, @b) [tail]`: bind it with a row
 * object whose keys are the column names (better-sqlite3 named parameters;
 * keys that are not columns are ignored, a missing one throws).
 * @param tail e.g. `ON CONFLICT(hash) DO NOTHING`
 */
export function insertNamed(verb: InsertVerb, table: string, columns: readonly string[], tail = ""): string {
  const sql = `${verb} INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})`;
  return tail === "" ? sql : `${sql} ${tail}`;
}

/**
 * The head and the one-row value list of a multi-row insert
 * (deferred-inserts.ts: several rows per statement, so positional `?`,
 * bound from a row object by {@link rowValues} in the same column order).
 */
export function insertHead(table: string, columns: readonly string[]): { head: string; row: string } {
  return { head: `INSERT INTO ${table} (${columns.join(", ")})`, row: `(${columns.map(() => "?").join(", ")})` };
}

/** A row's values in `columns` order (the parameters of an {@link insertHead} row). */
export function rowValues<T>(row: T, columns: readonly (keyof T)[]): unknown[] {
  const values = new Array<unknown>(columns.length);
  for (let i = 0; i < columns.length; i++) values[i] = row[columns[i]!];
  return values;
}
