/**
 * The tenancy store: API keys, the usage ledger and idempotency records
 * behind one interface, implemented on SQLite (the logs.db file,
 * `sqlite/sqlite-tenancy-store.ts`) and on PostgreSQL
 * (`postgres/postgres-tenancy-store.ts`). Both give the same answers; the
 * contract tests in test/tenancy/ run against both.
 *
 * Every method is async (PostgreSQL is), and rejects on a database failure
 * (connection lost, disk full) or, where noted, on invalid input.
 */
import type {
  ApiKey,
  BeginOptions,
  BudgetScope,
  BeginResult,
  CreatedApiKey,
  IdempotencyTarget,
  Instant,
  NewApiKey,
  RecordUsageResult,
  SpendScope,
  StoredResponse,
  UsageEvent,
  UsageGroup,
  UsageQuery,
} from "./types.js";

/** API keys (`llm_relay_keys`). */
export interface KeyStore {
  /**
   * Creates a key and returns its plaintext, once; only its SHA-256 and its
   * visible prefix are stored.
   * @throws TenancyInputError when a limit is negative or not a number, or the tenant is empty
   */
  create(input: NewApiKey): Promise<CreatedApiKey>;
  /**
   * The key whose plaintext this is, or null: unknown, malformed, or revoked
   * (unless `includeRevoked`, so the caller can say "revoked"). The candidate
   * rows are found by the visible prefix, then their hashes are compared in
   * constant time.
   */
  verify(plaintext: string, options?: { includeRevoked?: boolean }): Promise<ApiKey | null>;
  /** The key with this id, or null. */
  get(id: string): Promise<ApiKey | null>;
  /** Every key (revoked ones included), oldest first; `tenant` filters. */
  list(filter?: { tenant?: string }): Promise<ApiKey[]>;
  /**
   * Revokes a key: `verify` refuses it from now on. Revoking again keeps the
   * first `revokedAt`. Resolves with the key, or null when no key has this id.
   */
  revoke(id: string, options?: { now?: Instant }): Promise<ApiKey | null>;
  /**
   * Whether any key was ever created, revoked ones included: once true, the
   * proxy requires keys (revoking the last key must not open it to everyone).
   */
  anyKeys(): Promise<boolean>;
}

/** The usage ledger (`llm_relay_usage`): one row per billable event. */
export interface UsageLedger {
  /**
   * Writes an event, idempotently: the first event with an idempotency key
   * writes the row; any later one (from any instance) writes nothing and
   * gets `duplicate: true` with the first row.
   * @throws TenancyInputError when the event is invalid (no model, negative tokens…)
   */
  record(event: UsageEvent): Promise<RecordUsageResult>;
  /**
   * Writes several events as {@link record} does, in one transaction where
   * the engine allows (the proxy books its exchanges in batches, so that a
   * SQLite ledger costs one write transaction per batch, not per exchange).
   * On SQLite neither write waits for the file's lock on the caller's thread
   * (better-sqlite3 would wait synchronously, holding up every request of the
   * server): while another connection holds it, the write is tried again on a
   * timer, a batch for up to {@link LEDGER_BATCH_GIVE_UP_MS}.
   * @returns one result per event, in order
   * @throws TenancyInputError when an event is invalid (then none is written)
   * @throws the engine's lock error when the ledger stayed locked (then none is written)
   */
  recordMany(events: readonly UsageEvent[]): Promise<RecordUsageResult[]>;
  /** Totals grouped by model, UTC day or key, sorted by group (null first); filters are optional. */
  summary(query: UsageQuery): Promise<UsageGroup[]>;
  /** The USD spent (sum of priced rows) by a tenant and/or key from `since` (inclusive) up to `until` (exclusive, default: no end). */
  spend(scope: SpendScope, since: Instant, until?: Instant): Promise<number>;
  /**
   * What a budget check needs: the spend of one key or one tenant from
   * `since` (inclusive) on, in whole nano-USD (each row's cost rounded to a
   * nano-USD; see nano-usd.ts), read from the running totals kept in the
   * ledger's own write — two index lookups, whatever the ledger's size. The
   * same rows as {@link spend} with that scope and no `until`.
   * @throws TenancyInputError for an unparseable `since`
   */
  budgetSpend(scope: BudgetScope, since: Instant): Promise<number>;
}

/**
 * `Idempotency-Key` records (`llm_relay_idempotency`), keyed per tenant.
 * The flow of a request carrying a key: `begin`; on `started` run it, then
 * `complete` with the answer (or `release` to let a retry run it again);
 * otherwise answer from the result (409, replay, or conflict).
 */
export interface IdempotencyStore {
  /**
   * Claims the key atomically, across connections and instances: of several
   * concurrent calls with the same tenant and key, exactly one gets
   * `started`. An expired record, or an `in_progress` one whose lock ran
   * out, is replaced (that call gets `started`).
   */
  begin(target: IdempotencyTarget, options?: BeginOptions): Promise<BeginResult>;
  /**
   * Stores the answer of a started request (state `done`). Resolves false
   * when the record is no longer this request's (released, expired and
   * replaced, or another fingerprint).
   */
  complete(target: IdempotencyTarget, response: StoredResponse, options?: { now?: Instant }): Promise<boolean>;
  /** Deletes an `in_progress` record (the request failed before an answer worth replaying); false when there was none. */
  release(target: IdempotencyTarget): Promise<boolean>;
  /** Deletes records whose `expiresAt` is at or before `now` (default now); resolves with how many. */
  purgeExpired(now?: Instant): Promise<number>;
}

/** The three parts on one database. */
export interface TenancyStore {
  /** `sqlite` or `postgres`. */
  readonly kind: "sqlite" | "postgres";
  readonly keys: KeyStore;
  readonly ledger: UsageLedger;
  readonly idempotency: IdempotencyStore;
  /** Closes the connection(s); later calls reject. */
  close(): Promise<void>;
}

/** How long a SQLite ledger batch keeps trying while another connection holds the lock, in ms (a single `record` gives up after 5 s). */
export const LEDGER_BATCH_GIVE_UP_MS = 60_000;

/** Invalid input to a store (a bad usage event or key limit); the message names the field. */
export class TenancyInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TenancyInputError";
  }
}
