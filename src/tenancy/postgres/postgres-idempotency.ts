/**
 * `Idempotency-Key` records on PostgreSQL. `begin` is one statement:
 * `INSERT … ON CONFLICT (tenant_id, idempotency_key) DO UPDATE … WHERE` the
 * existing record has expired (or its in-progress lock ran out). PostgreSQL
 * runs it atomically against concurrent inserts of the same key from any
 * connection: exactly one caller gets a row back (`started`); the others
 * read the record that won.
 */
import type postgres from "postgres";
import { beginTimes } from "../idempotency.js";
import { instantMs, isoUtc } from "../instants.js";
import { idempotencyRecordOf, type IdempotencyDbRow } from "../rows.js";
import type { IdempotencyStore } from "../store.js";
import type { BeginOptions, BeginResult, IdempotencyTarget, Instant, StoredResponse } from "../types.js";

/** Claims of a record that vanished between the claim and the read (purged at that moment) before giving up. */
const MAX_CLAIMS = 3;

/** Idempotency records on PostgreSQL. */
export class PostgresIdempotencyStore implements IdempotencyStore {
  constructor(private readonly sql: postgres.Sql) {}

  async begin(target: IdempotencyTarget, options: BeginOptions = {}): Promise<BeginResult> {
    const sql = this.sql;
    for (let claim = 1; ; claim++) {
      const times = beginTimes(options);
      const now = isoUtc(times.now);
      const claimed = await sql`
        INSERT INTO llm_relay_idempotency AS r (tenant_id, idempotency_key, fingerprint, state, created_at, locked_until, expires_at)
        VALUES (${target.tenant}, ${target.key}, ${target.fingerprint}, 'in_progress', ${now}::timestamptz,
          ${isoUtc(times.lockedUntil)}::timestamptz, ${isoUtc(times.expiresAt)}::timestamptz)
        ON CONFLICT (tenant_id, idempotency_key) DO UPDATE SET
          fingerprint = EXCLUDED.fingerprint, state = 'in_progress', response_status = NULL, response_headers = NULL,
          response_body = NULL, response_events = NULL, created_at = EXCLUDED.created_at, locked_until = EXCLUDED.locked_until,
          completed_at = NULL, expires_at = EXCLUDED.expires_at
        WHERE r.expires_at <= EXCLUDED.created_at OR (r.state = 'in_progress' AND r.locked_until <= EXCLUDED.created_at)
        RETURNING 1`;
      if (claimed.length === 1) return { outcome: "started" };
      const [row] = await sql<IdempotencyDbRow[]>`
        SELECT * FROM llm_relay_idempotency WHERE tenant_id = ${target.tenant} AND idempotency_key = ${target.key}`;
      if (!row) {
        if (claim < MAX_CLAIMS) continue;
        throw new Error(`idempotency record ${target.key} vanished ${MAX_CLAIMS} times while being claimed`);
      }
      const record = idempotencyRecordOf(row);
      if (row.fingerprint !== target.fingerprint) return { outcome: "mismatch", record };
      return row.state === "in_progress" ? { outcome: "in_progress", record } : { outcome: "done", record };
    }
  }

  async complete(
    target: IdempotencyTarget,
    response: StoredResponse,
    options: { now?: Instant } = {},
  ): Promise<boolean> {
    const result = await this.sql`
      UPDATE llm_relay_idempotency SET state = 'done', response_status = ${response.status},
        response_headers = ${JSON.stringify(response.headers)}::jsonb,
        response_body = ${response.kind === "body" ? response.body : null},
        response_events = ${response.kind === "sse" ? JSON.stringify(response.events) : null}::jsonb,
        completed_at = ${isoUtc(options.now ?? Date.now())}::timestamptz
      WHERE tenant_id = ${target.tenant} AND idempotency_key = ${target.key} AND fingerprint = ${target.fingerprint} AND state = 'in_progress'`;
    return result.count === 1;
  }

  async release(target: IdempotencyTarget): Promise<boolean> {
    const result = await this.sql`
      DELETE FROM llm_relay_idempotency
      WHERE tenant_id = ${target.tenant} AND idempotency_key = ${target.key} AND fingerprint = ${target.fingerprint} AND state = 'in_progress'`;
    return result.count === 1;
  }

  async purgeExpired(now: Instant = Date.now()): Promise<number> {
    const result = await this
      .sql`DELETE FROM llm_relay_idempotency WHERE expires_at <= ${isoUtc(instantMs(now))}::timestamptz`;
    return result.count;
  }
}
