/**
 * `Idempotency-Key` records on SQLite. `begin` reads and claims the record
 * in one `BEGIN IMMEDIATE` transaction, which holds the file's write lock,
 * so two connections (or processes) cannot both start the same key.
 * No operation waits for that lock on the calling thread: while another
 * connection (the recorder's worker, another process) holds it, the
 * operation is tried again on a timer, for up to `LOCK_GIVE_UP_MS` (5 s).
 */
import { promiseOf } from "../../async/promise-of.js";
import type { Database as Db, Statement } from "better-sqlite3";
import { LOCK_GIVE_UP_MS, whenLockFree } from "../../recording/sqlite/connection.js";
import { beginTimes } from "../idempotency.js";
import { instantMs, isoUtc } from "../instants.js";
import { idempotencyRecordOf, type IdempotencyDbRow } from "../rows.js";
import type { IdempotencyStore } from "../store.js";
import type { BeginOptions, BeginResult, IdempotencyTarget, Instant, StoredResponse } from "../types.js";

/** Idempotency records on SQLite. */
export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly claim: (target: IdempotencyTarget, options: BeginOptions) => BeginResult;
  private readonly markDone: Statement;
  private readonly remove: Statement;

  constructor(private readonly db: Db) {
    this.markDone = db.prepare(
      `UPDATE llm_relay_idempotency SET state = 'done', response_status = ?, response_headers = ?, response_body = ?, response_events = ?, completed_at = ?
       WHERE tenant_id = ? AND idempotency_key = ? AND fingerprint = ? AND state = 'in_progress'`,
    );
    this.remove = db.prepare(
      `DELETE FROM llm_relay_idempotency WHERE tenant_id = ? AND idempotency_key = ? AND fingerprint = ? AND state = 'in_progress'`,
    );
    const select = db.prepare(`SELECT * FROM llm_relay_idempotency WHERE tenant_id = ? AND idempotency_key = ?`);
    const upsert = db.prepare(
      `INSERT OR REPLACE INTO llm_relay_idempotency (tenant_id, idempotency_key, fingerprint, state, response_status, response_headers,
         response_body, response_events, created_at, locked_until, completed_at, expires_at)
       VALUES (?, ?, ?, 'in_progress', NULL, NULL, NULL, NULL, ?, ?, NULL, ?)`,
    );
    const transaction = db.transaction((target: IdempotencyTarget, options: BeginOptions): BeginResult => {
      const times = beginTimes(options);
      const now = isoUtc(times.now);
      const row = select.get(target.tenant, target.key) as (IdempotencyDbRow & { locked_until: string }) | undefined;
      const free = !row || row.expires_at <= now || (row.state === "in_progress" && row.locked_until <= now);
      if (free) {
        upsert.run(
          target.tenant,
          target.key,
          target.fingerprint,
          now,
          isoUtc(times.lockedUntil),
          isoUtc(times.expiresAt),
        );
        return { outcome: "started" };
      }
      const record = idempotencyRecordOf(row);
      if (row.fingerprint !== target.fingerprint) return { outcome: "mismatch", record };
      return row.state === "in_progress" ? { outcome: "in_progress", record } : { outcome: "done", record };
    });
    this.claim = (target, options) => transaction.immediate(target, options);
  }

  async begin(target: IdempotencyTarget, options: BeginOptions = {}): Promise<BeginResult> {
    return whenLockFree(this.db, () => this.claim(target, options), LOCK_GIVE_UP_MS);
  }

  async complete(
    target: IdempotencyTarget,
    response: StoredResponse,
    options: { now?: Instant } = {},
  ): Promise<boolean> {
    const values = [
      response.status,
      JSON.stringify(response.headers),
      response.kind === "body" ? response.body : null,
      response.kind === "sse" ? JSON.stringify(response.events) : null,
      isoUtc(options.now ?? Date.now()),
      target.tenant,
      target.key,
      target.fingerprint,
    ];
    const result = await whenLockFree(this.db, () => this.markDone.run(...values), LOCK_GIVE_UP_MS);
    return result.changes === 1;
  }

  async release(target: IdempotencyTarget): Promise<boolean> {
    const result = await whenLockFree(
      this.db,
      () => this.remove.run(target.tenant, target.key, target.fingerprint),
      LOCK_GIVE_UP_MS,
    );
    return result.changes === 1;
  }

  purgeExpired(now: Instant = Date.now()): Promise<number> {
    return promiseOf(() => {
      return this.db.prepare(`DELETE FROM llm_relay_idempotency WHERE expires_at <= ?`).run(isoUtc(instantMs(now)))
        .changes;
    });
  }
}
