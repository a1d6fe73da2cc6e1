/**
 * Rows of one table held back during a transaction and inserted together,
 * several rows per `INSERT … VALUES (…), (…)` statement.
 *
 * Why: llm's `responses` and `turn_search` feed their FTS5 indexes through
 * `AFTER INSERT` triggers. A statement that fires a trigger opens a
 * statement savepoint, and FTS5 writes its pending terms out as a new index
 * segment at every savepoint (`fts5SavepointMethod` → `sqlite3Fts5FlushToDisk`
 * in SQLite 3.53's fts5_main.c). One row per statement therefore means one
 * segment per row, and merge work for each: measured on the recorder's
 * rows, 36–45 µs per row one by one against 16–17 µs in statements of 100
 * rows (8 µs without the index). The rows and the index are the same
 * either way.
 */
import type { Database as Db, Statement } from "better-sqlite3";

/** Rows per statement, largest first: a flush of n rows uses at most a few statements of each size. */
const CHUNK_SIZES = [64, 16, 4, 1] as const;

/** The rows of one table waiting for {@link DeferredInserts.flush}. */
export class DeferredInserts {
  private rows: unknown[][] = [];
  /** Keys of the waiting rows (see {@link add}). */
  private readonly keys = new Set<string>();
  private readonly statements = new Map<number, Statement>();

  /**
   * @param db the connection (statements are prepared on first use)
   * @param head the statement up to `VALUES`, e.g. `INSERT INTO t (a, b)`
   * @param row one row's value list, e.g. `(?, ?, NULL)`; every row binds the same number of parameters
   */
  constructor(
    private readonly db: Db,
    private readonly head: string,
    private readonly row: string,
  ) {}

  /**
   * Holds one row back until {@link flush}.
   * @param params its parameters, in the order of the row's `?`
   * @param key optional: a name the caller can ask about with {@link holds} (e.g. the row's conversation)
   */
  add(params: unknown[], key?: string): void {
    this.rows.push(params);
    if (key !== undefined) this.keys.add(key);
  }

  /** True when a waiting row was added under `key`: flush before reading what it would change. */
  holds(key: string): boolean {
    return this.keys.has(key);
  }

  /**
   * Inserts the waiting rows, in the order they were added, and forgets them.
   * Call it inside the transaction that added them.
   * @throws what SQLite throws (a constraint, a lock); the rows are forgotten either way
   */
  flush(): void {
    const rows = this.rows;
    this.clear();
    let at = 0;
    for (const size of CHUNK_SIZES) {
      if (rows.length - at < size) continue;
      const statement = this.statement(size);
      for (; rows.length - at >= size; at += size) statement.run(...rows.slice(at, at + size).flat());
    }
  }

  /** Forgets the waiting rows (the transaction that added them rolled back). */
  clear(): void {
    this.rows = [];
    this.keys.clear();
  }

  private statement(size: number): Statement {
    let statement = this.statements.get(size);
    if (!statement) {
      statement = this.db.prepare(`${this.head} VALUES ${Array.from({ length: size }, () => this.row).join(", ")}`);
      this.statements.set(size, statement);
    }
    return statement;
  }
}
