/**
 * The {@link TenancyStore} on PostgreSQL, through the `postgres` package
 * (porsager, v3). Several llm-relay instances may share one database: the
 * ledger's idempotency rests on `INSERT … ON CONFLICT (idempotency_key) DO
 * NOTHING` and the idempotency claim on `INSERT … ON CONFLICT … DO UPDATE …
 * WHERE <expired>`, both atomic in PostgreSQL across connections. The tables
 * are created and upgraded by versioned migrations when the store opens
 * (`migrations.ts`).
 */
import postgres from "postgres";
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
import type { KeyStore, TenancyStore, UsageLedger } from "../store.js";
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
} from "../types.js";
import { usageRowOf } from "../usage-event.js";
import { insertUsageRow } from "./ledger-writer.js";
import { migrateTenancy } from "./migrations.js";
import { PostgresIdempotencyStore } from "./postgres-idempotency.js";

/** Options of {@link PostgresTenancyStore.open}. */
export interface PostgresTenancyOptions {
  /** Schema to use (sets the connection's `search_path`); default the URL's or the server's default (`public`). */
  schema?: string;
  /** Largest number of connections in the pool (default 10). */
  max?: number;
  /** Seconds after which an idle connection is closed (default: never); short for scripts, so they can exit. */
  idleTimeoutS?: number;
  /** Seconds to wait for a connection (default 10). */
  connectTimeoutS?: number;
}

/** The tenancy store on a PostgreSQL database. */
export class PostgresTenancyStore implements TenancyStore {
  readonly kind = "postgres" as const;
  readonly keys: KeyStore;
  readonly ledger: UsageLedger;
  readonly idempotency: PostgresIdempotencyStore;

  private constructor(private readonly sql: postgres.Sql) {
    this.keys = new PostgresKeyStore(sql);
    this.ledger = new PostgresUsageLedger(sql);
    this.idempotency = new PostgresIdempotencyStore(sql);
  }

  /**
   * Connects to `url` (`postgres://user:pass@host:5432/db`) and applies the
   * missing migrations.
   * @throws when the server cannot be reached, the schema does not exist, or a migration fails
   *   (the pool is closed before rethrowing)
   */
  static async open(url: string, options: PostgresTenancyOptions = {}): Promise<PostgresTenancyStore> {
    const sql = postgres(url, {
      max: options.max ?? 10,
      connect_timeout: options.connectTimeoutS ?? 10,
      ...(options.idleTimeoutS === undefined ? {} : { idle_timeout: options.idleTimeoutS }),
      onnotice: () => {},
      ...(options.schema === undefined ? {} : { connection: { search_path: options.schema } }),
    });
    try {
      await migrateTenancy(sql);
      return new PostgresTenancyStore(sql);
    } catch (error) {
      await sql.end({ timeout: 1 });
      throw error;
    }
  }

  /** Closes the pool, letting running queries finish (at most 5 s). */
  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}

/** Keys on PostgreSQL. */
class PostgresKeyStore implements KeyStore {
  constructor(private readonly sql: postgres.Sql) {}

  async create(input: NewApiKey): Promise<CreatedApiKey> {
    const checked = checkNewKey(input);
    const plaintext = generateKeyPlaintext();
    const id = newKeyId();
    const createdAt = isoUtc(Date.now());
    const models = checked.models === null ? null : JSON.stringify(checked.models);
    const [row] = await this.sql<KeyRow[]>`
      INSERT INTO llm_relay_keys (id, tenant_id, prefix, key_hash, created_at, budget_usd, budget_period_ms, rpm, tpm, models)
      VALUES (${id}, ${checked.tenant}, ${visiblePrefix(plaintext)}, ${hashKey(plaintext)}, ${createdAt}::timestamptz, ${checked.budgetUsd},
        ${checked.budgetPeriodMs === null ? null : String(checked.budgetPeriodMs)}::bigint, ${checked.rpm}, ${checked.tpm}, ${models}::jsonb)
      RETURNING *`;
    return { key: apiKeyOf(row!), plaintext };
  }

  async verify(plaintext: string, options: { includeRevoked?: boolean } = {}): Promise<ApiKey | null> {
    if (!isKeyShaped(plaintext)) return null;
    const rows = await this.sql<KeyRow[]>`SELECT * FROM llm_relay_keys WHERE prefix = ${visiblePrefix(plaintext)}`;
    const found = matchKey(
      plaintext,
      rows.map((row) => ({ row, keyHash: row.key_hash })),
    );
    if (!found || (found.row.revoked_at !== null && !options.includeRevoked)) return null;
    return apiKeyOf(found.row);
  }

  async get(id: string): Promise<ApiKey | null> {
    const [row] = await this.sql<KeyRow[]>`SELECT * FROM llm_relay_keys WHERE id = ${id}`;
    return row ? apiKeyOf(row) : null;
  }

  async list(filter: { tenant?: string } = {}): Promise<ApiKey[]> {
    const rows =
      filter.tenant === undefined
        ? await this.sql<KeyRow[]>`SELECT * FROM llm_relay_keys ORDER BY created_at, id`
        : await this.sql<
            KeyRow[]
          >`SELECT * FROM llm_relay_keys WHERE tenant_id = ${filter.tenant} ORDER BY created_at, id`;
    return rows.map(apiKeyOf);
  }

  async revoke(id: string, options: { now?: Instant } = {}): Promise<ApiKey | null> {
    await this
      .sql`UPDATE llm_relay_keys SET revoked_at = ${isoUtc(options.now ?? Date.now())}::timestamptz WHERE id = ${id} AND revoked_at IS NULL`;
    return this.get(id);
  }

  async anyKeys(): Promise<boolean> {
    const rows = await this.sql`SELECT 1 FROM llm_relay_keys LIMIT 1`;
    return rows.length > 0;
  }
}

/** The ledger on PostgreSQL. */
class PostgresUsageLedger implements UsageLedger {
  constructor(private readonly sql: postgres.Sql) {}

  async record(event: UsageEvent): Promise<RecordUsageResult> {
    return insertUsageRow(this.sql, usageRowOf(event));
  }

  async recordMany(events: readonly UsageEvent[]): Promise<RecordUsageResult[]> {
    for (const event of events) usageRowOf(event); // validate them all before writing any
    const results: RecordUsageResult[] = [];
    // One statement each on the pool's connections: conflicts resolve per row, as in `record`.
    for (const event of events) results.push(await this.record(event));
    return results;
  }

  async summary(query: UsageQuery): Promise<UsageGroup[]> {
    const sql = this.sql;
    const group = {
      model: sql`model`,
      day: sql`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
      key: sql`key_id`,
    }[query.groupBy];
    const rows = await sql<SummaryRow[]>`
      SELECT ${group} AS grp, count(*)::int AS events, coalesce(sum(input_tokens), 0)::float8 AS input_tokens,
        coalesce(sum(output_tokens), 0)::float8 AS output_tokens, coalesce(sum(tokens), 0)::float8 AS tokens,
        coalesce(sum(cost_usd), 0)::float8 AS cost_usd, (count(*) FILTER (WHERE cost_usd IS NULL))::int AS unpriced,
        bool_or(estimated) AS estimated
      FROM llm_relay_usage ${this.where(query)} GROUP BY 1`;
    return byGroup(rows.map(groupOf));
  }

  async spend(scope: SpendScope, since: Instant, until?: Instant): Promise<number> {
    const [row] = await this.sql<{ usd: number }[]>`
      SELECT coalesce(sum(cost_usd), 0)::float8 AS usd FROM llm_relay_usage
      ${this.where({ ...scope, since, ...(until === undefined ? {} : { until }) })}`;
    return row!.usd;
  }

  // The running total of the newest row minus that of the newest row before `since`: two index seeks, one snapshot.
  async budgetSpend(scope: BudgetScope, since: Instant): Promise<number> {
    const sinceText = isoUtc(instantMs(since));
    const [row] =
      scope.keyId !== undefined
        ? await this.sql<{ nusd: string }[]>`
          SELECT (coalesce((SELECT key_total_nusd FROM llm_relay_usage WHERE key_id = ${scope.keyId} ORDER BY created_at DESC, id DESC LIMIT 1), 0)
            - coalesce((SELECT key_total_nusd FROM llm_relay_usage WHERE key_id = ${scope.keyId} AND created_at < ${sinceText}::timestamptz
                ORDER BY created_at DESC, id DESC LIMIT 1), 0))::text AS nusd`
        : await this.sql<{ nusd: string }[]>`
          SELECT (coalesce((SELECT tenant_total_nusd FROM llm_relay_usage WHERE tenant_id = ${scope.tenant} ORDER BY created_at DESC, id DESC LIMIT 1), 0)
            - coalesce((SELECT tenant_total_nusd FROM llm_relay_usage WHERE tenant_id = ${scope.tenant} AND created_at < ${sinceText}::timestamptz
                ORDER BY created_at DESC, id DESC LIMIT 1), 0))::text AS nusd`;
    return Number(row!.nusd);
  }

  /** The WHERE fragment of the optional tenant, key and time filters. */
  private where(query: {
    tenant?: string;
    keyId?: string;
    since?: Instant;
    until?: Instant;
  }): postgres.PendingQuery<postgres.Row[]> {
    const sql = this.sql;
    const clauses: postgres.PendingQuery<postgres.Row[]>[] = [];
    if (query.tenant !== undefined) clauses.push(sql`tenant_id = ${query.tenant}`);
    if (query.keyId !== undefined) clauses.push(sql`key_id = ${query.keyId}`);
    if (query.since !== undefined) clauses.push(sql`created_at >= ${isoUtc(instantMs(query.since))}::timestamptz`);
    if (query.until !== undefined) clauses.push(sql`created_at < ${isoUtc(instantMs(query.until))}::timestamptz`);
    if (clauses.length === 0) return sql``;
    return clauses.slice(1).reduce((acc, clause) => sql`${acc} AND ${clause}`, sql`WHERE ${clauses[0]!}`);
  }
}
