/**
 * The {@link TenancyStore} on SQLite (better-sqlite3), in the same file as
 * the proxy's logs.db: its own tables `llm_relay_keys`, `llm_relay_usage`
 * and `llm_relay_idempotency`, created if missing. Opening also creates or
 * completes the llm schema (as `SqliteStore.open` does), so a file made by
 * `llm-relay keys create` is a valid logs.db.
 *
 * better-sqlite3 is synchronous: each method runs its statements at once and
 * returns a settled promise. Writes that must be atomic run in `BEGIN
 * IMMEDIATE` transactions, which serialise them across connections and
 * processes on the file.
 */
import { promiseOf } from "../../async/promise-of.js";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Database as Db, Statement, Transaction } from "better-sqlite3";
import { configureWriter, LOCK_GIVE_UP_MS, whenLockFree } from "../../recording/sqlite/connection.js";
import { ensureSchema } from "../../recording/sqlite/schema.js";
import {
  checkNewKey,
  generateKeyPlaintext,
  hashKey,
  isKeyShaped,
  matchKey,
  newKeyId,
  visiblePrefix,
} from "../api-keys.js";
import { instantMs, isoUtc } from "../instants.js";
import { apiKeyOf, byGroup, groupOf, type KeyRow, type SummaryRow } from "../rows.js";
import { LEDGER_BATCH_GIVE_UP_MS, type KeyStore, type TenancyStore, type UsageLedger } from "../store.js";
import type {
  ApiKey,
  BudgetScope,
  CreatedApiKey,
  Instant,
  NewApiKey,
  RecordUsageResult,
  SpendScope,
  UsageEvent,
  UsageGroup,
  UsageQuery,
  UsageRow,
} from "../types.js";
import { usageRowOf } from "../usage-event.js";
import { ensureTenancySchema } from "./schema.js";
import { SqliteIdempotencyStore } from "./sqlite-idempotency.js";
import { SqliteLedgerWriter } from "./ledger-writer.js";

/** ms a write waits for another connection's lock before failing. */
const BUSY_TIMEOUT_MS = 5000;

/** Options of {@link SqliteTenancyStore.open}. */
export interface SqliteTenancyOptions {
  /** How long a write waits for another connection's lock, in ms (default 5000). */
  busyTimeoutMs?: number;
}

/** The tenancy store on a SQLite file. */
export class SqliteTenancyStore implements TenancyStore {
  readonly kind = "sqlite" as const;
  readonly keys: KeyStore;
  readonly ledger: UsageLedger;
  readonly idempotency: SqliteIdempotencyStore;

  private constructor(private readonly db: Db) {
    this.keys = new SqliteKeyStore(db);
    this.ledger = new SqliteUsageLedger(db);
    this.idempotency = new SqliteIdempotencyStore(db);
  }

  /**
   * Opens (creating if needed, with its parent directories) the SQLite file
   * at `path`, in WAL mode, and creates the missing tables.
   * @param path the logs.db path, or `:memory:`
   * @throws when the file cannot be opened or is not a logs.db llm-relay can use (see `ensureSchema`)
   */
  static open(path: string, options: SqliteTenancyOptions = {}): SqliteTenancyStore {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      configureWriter(db, options.busyTimeoutMs ?? BUSY_TIMEOUT_MS);
      // BEGIN IMMEDIATE takes the write lock first, waiting (busy_timeout) for a recorder that is
      // creating the same new file: a deferred transaction would fail at once (SQLITE_BUSY_SNAPSHOT)
      // when upgrading its read to a write after the other connection committed.
      db.transaction(() => {
        ensureSchema(db);
        ensureTenancySchema(db);
      }).immediate();
      return new SqliteTenancyStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Closes the connection. */
  close(): Promise<void> {
    return promiseOf(() => {
      if (this.db.open) this.db.close();
    });
  }
}

/** Keys on SQLite. */
class SqliteKeyStore implements KeyStore {
  constructor(private readonly db: Db) {}

  create(input: NewApiKey): Promise<CreatedApiKey> {
    return promiseOf(() => {
      const checked = checkNewKey(input);
      const plaintext = generateKeyPlaintext();
      const row: KeyRow = {
        id: newKeyId(),
        tenant_id: checked.tenant,
        prefix: visiblePrefix(plaintext),
        key_hash: hashKey(plaintext),
        created_at: isoUtc(Date.now()),
        revoked_at: null,
        budget_usd: checked.budgetUsd,
        budget_period_ms: checked.budgetPeriodMs,
        rpm: checked.rpm,
        tpm: checked.tpm,
        models: checked.models === null ? null : JSON.stringify(checked.models),
      };
      this.db
        .prepare(
          `INSERT INTO llm_relay_keys (id, tenant_id, prefix, key_hash, created_at, revoked_at, budget_usd, budget_period_ms, rpm, tpm, models)
           VALUES (@id, @tenant_id, @prefix, @key_hash, @created_at, @revoked_at, @budget_usd, @budget_period_ms, @rpm, @tpm, @models)`,
        )
        .run(row);
      return { key: apiKeyOf(row), plaintext };
    });
  }

  verify(plaintext: string, options: { includeRevoked?: boolean } = {}): Promise<ApiKey | null> {
    return promiseOf(() => {
      if (!isKeyShaped(plaintext)) return null;
      const candidates = (
        this.db.prepare(`SELECT * FROM llm_relay_keys WHERE prefix = ?`).all(visiblePrefix(plaintext)) as KeyRow[]
      ).map((row) => ({ row, keyHash: row.key_hash }));
      const found = matchKey(plaintext, candidates);
      if (!found || (found.row.revoked_at !== null && !options.includeRevoked)) return null;
      return apiKeyOf(found.row);
    });
  }

  get(id: string): Promise<ApiKey | null> {
    return promiseOf(() => {
      const row = this.db.prepare(`SELECT * FROM llm_relay_keys WHERE id = ?`).get(id) as KeyRow | undefined;
      return row ? apiKeyOf(row) : null;
    });
  }

  list(filter: { tenant?: string } = {}): Promise<ApiKey[]> {
    return promiseOf(() => {
      const rows =
        filter.tenant === undefined
          ? this.db.prepare(`SELECT * FROM llm_relay_keys ORDER BY created_at, id`).all()
          : this.db
              .prepare(`SELECT * FROM llm_relay_keys WHERE tenant_id = ? ORDER BY created_at, id`)
              .all(filter.tenant);
      return (rows as KeyRow[]).map(apiKeyOf);
    });
  }

  async revoke(id: string, options: { now?: Instant } = {}): Promise<ApiKey | null> {
    this.db
      .prepare(`UPDATE llm_relay_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`)
      .run(isoUtc(options.now ?? Date.now()), id);
    return this.get(id);
  }

  anyKeys(): Promise<boolean> {
    return promiseOf(() => {
      return this.db.prepare(`SELECT 1 FROM llm_relay_keys LIMIT 1`).get() !== undefined;
    });
  }
}

/** The ledger on SQLite. */
class SqliteUsageLedger implements UsageLedger {
  private readonly writer: SqliteLedgerWriter;
  private readonly insertAll: Transaction<(rows: readonly UsageRow[]) => RecordUsageResult[]>;
  private readonly keySpend: Statement;
  private readonly tenantSpend: Statement;

  constructor(private readonly db: Db) {
    this.writer = new SqliteLedgerWriter(db);
    this.insertAll = db.transaction((rows: readonly UsageRow[]) => rows.map((row) => this.writer.insert(row)));
    this.keySpend = db.prepare(spendSql("key_id", "key_total_nusd"));
    this.tenantSpend = db.prepare(spendSql("tenant_id", "tenant_total_nusd"));
  }

  // Neither write waits for the lock on this thread (the server's event loop): while the recorder's
  // worker or another process is writing, it is tried again on a timer.
  async record(event: UsageEvent): Promise<RecordUsageResult> {
    const row = usageRowOf(event);
    return whenLockFree(this.db, () => this.writer.insert(row), LOCK_GIVE_UP_MS);
  }

  async recordMany(events: readonly UsageEvent[]): Promise<RecordUsageResult[]> {
    const rows = events.map((event) => usageRowOf(event));
    return whenLockFree(this.db, () => this.insertAll.immediate(rows), LEDGER_BATCH_GIVE_UP_MS);
  }

  // A WAL reader never waits for the writer's lock: two index seeks on this thread.
  budgetSpend(scope: BudgetScope, since: Instant): Promise<number> {
    return promiseOf(() => {
      const statement = scope.keyId !== undefined ? this.keySpend : this.tenantSpend;
      const row = statement.get({ scope: scope.keyId ?? scope.tenant, since: isoUtc(instantMs(since)) }) as {
        nusd: number;
      };
      return row.nusd;
    });
  }

  summary(query: UsageQuery): Promise<UsageGroup[]> {
    return promiseOf(() => {
      const groupExpr = { model: "model", day: "substr(created_at, 1, 10)", key: "key_id" }[query.groupBy];
      const { where, params } = filters(query);
      const rows = this.db
        .prepare(
          `SELECT ${groupExpr} AS grp, count(*) AS events, coalesce(sum(input_tokens), 0) AS input_tokens,
             coalesce(sum(output_tokens), 0) AS output_tokens, coalesce(sum(tokens), 0) AS tokens,
             coalesce(sum(cost_usd), 0) AS cost_usd, sum(cost_usd IS NULL) AS unpriced, max(estimated) AS estimated
           FROM llm_relay_usage ${where} GROUP BY grp`,
        )
        .all(...params) as SummaryRow[];
      return byGroup(rows.map(groupOf));
    });
  }

  spend(scope: SpendScope, since: Instant, until?: Instant): Promise<number> {
    return promiseOf(() => {
      const { where, params } = filters({ ...scope, since, ...(until === undefined ? {} : { until }) });
      const row = this.db
        .prepare(`SELECT coalesce(sum(cost_usd), 0) AS usd FROM llm_relay_usage ${where}`)
        .get(...params) as { usd: number };
      return row.usd;
    });
  }
}

/**
 * Spend from `@since` on of one key or tenant, in nano-USD: the running total
 * of its newest row minus that of its newest row before `@since` (each one
 * seek on the (scope, created_at, id) index).
 */
function spendSql(column: "key_id" | "tenant_id", total: "key_total_nusd" | "tenant_total_nusd"): string {
  const newest = (before: string) =>
    `coalesce((SELECT ${total} FROM llm_relay_usage WHERE ${column} = @scope ${before} ORDER BY created_at DESC, id DESC LIMIT 1), 0)`;
  return `SELECT ${newest("")} - ${newest("AND created_at < @since")} AS nusd`;
}

/** The WHERE clause (and its parameters) of the optional tenant, key and time filters. */
function filters(query: { tenant?: string; keyId?: string; since?: Instant; until?: Instant }): {
  where: string;
  params: unknown[];
} {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, param: unknown) => {
    clauses.push(clause);
    params.push(param);
  };
  if (query.tenant !== undefined) add("tenant_id = ?", query.tenant);
  if (query.keyId !== undefined) add("key_id = ?", query.keyId);
  if (query.since !== undefined) add("created_at >= ?", isoUtc(instantMs(query.since)));
  if (query.until !== undefined) add("created_at < ?", isoUtc(instantMs(query.until)));
  return { where: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", params };
}
