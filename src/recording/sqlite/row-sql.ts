/**
 * SQLite statements generated from a table's column list (the builder's
 * `*_COLUMNS`, src/recording/exchange-rows.ts), so a column added to the
 * builder reaches the SQL without editing it here.
 */

/** The insert verbs the store uses (https://sqlite.org/lang_insert.html). */
export type InsertVerb = "INSERT" | "INSERT OR IGNORE" | "INSERT OR REPLACE";

/**
 * `<verb> INTO <table> (a, b) VALUES (?, ?) [tail]`: run it with
 * `statement.run(...rowValues(row, columns))`. Positional rather than
 * named (`@a`): better-sqlite3 binds a named parameter by building a V8
 * string for each name and looking it up on the object, measured at
 * 14–26 µs per 18-column row against 5–11 µs positional (one loaded
 * machine, in-memory table), about 6 % of the recorder's write path in an
 * interleaved A/B on a loaded machine; the order still comes from the one
 * column list, so it cannot drift from the SQL.
 * @param tail e.g. `ON CONFLICT(hash) DO NOTHING`
 */
export function insertSql(verb: InsertVerb, table: string, columns: readonly string[], tail = ""): string {
  const sql = `${verb} INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`;
  return tail === "" ? sql : `${sql} ${tail}`;
}

/**
 * The head and the one-row value list of a multi-row insert
 * (deferred-inserts.ts: several rows per statement), bound from row
 * objects by {@link rowValues} in the same column order.
 */
export function insertHead(table: string, columns: readonly string[]): { head: string; row: string } {
  return { head: `INSERT INTO ${table} (${columns.join(", ")})`, row: `(${columns.map(() => "?").join(", ")})` };
}

/** A row's values in `columns` order (the parameters of an {@link insertSql} statement or an {@link insertHead} row). */
export function rowValues<T>(row: T, columns: readonly (keyof T)[]): unknown[] {
  const values = new Array<unknown>(columns.length);
  for (let i = 0; i < columns.length; i++) values[i] = row[columns[i]!];
  return values;
}
