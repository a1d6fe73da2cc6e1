/**
 * The data of tenancy: API keys (who calls), the usage ledger (what they
 * spent, one row per billable event) and idempotency records (what a
 * request with an `Idempotency-Key` answered, for replays). The same shapes
 * come out of the SQLite and the PostgreSQL store (see `store.ts`).
 *
 * Times are ISO-8601 UTC strings with milliseconds (`2026-11-21T13:51:12.123Z`)
 * when read, and {@link Instant}s when given. Durations are in ms.
 */

/** A point in time given to a store: a `Date`, an ISO-8601 string, or ms since the epoch. */
export type Instant = Date | string | number;

/** The tenant used when nothing names one (the proxy without keys). */
export const DEFAULT_TENANT = "default";

/**
 * An API key as stored: everything but the secret. The plaintext key is
 * shown once, by {@link KeyStore.create}; only its SHA-256 is kept.
 */
export interface ApiKey {
  /** Stable id (`key_<ulid>`), used by `keys revoke` and recorded with each exchange. */
  id: string;
  /** The tenant the key belongs to; budgets and usage add up per tenant too. */
  tenant: string;
  /** The visible start of the key (`lr-` and 8 characters), to recognise it in lists and logs. */
  prefix: string;
  /** When the key was created (ISO-8601 UTC). */
  createdAt: string;
  /** When it was revoked (ISO-8601 UTC), or null while it is valid. */
  revokedAt: string | null;
  /** Spend allowed per budget period, in USD, or null for no budget. */
  budgetUsd: number | null;
  /** Length of the budget period in ms (e.g. 30 days), or null: the budget covers the key's whole life. */
  budgetPeriodMs: number | null;
  /** Requests per minute allowed, or null for no limit. */
  rpm: number | null;
  /** Tokens (input + output) per minute allowed, or null for no limit. */
  tpm: number | null;
  /** Model names the key may call, or null for every model. */
  models: string[] | null;
}

/** What `keys create` sets on a new key; every limit is optional (null or absent: none). */
export interface NewApiKey {
  tenant: string;
  budgetUsd?: number | null;
  budgetPeriodMs?: number | null;
  rpm?: number | null;
  tpm?: number | null;
  models?: string[] | null;
}

/** A key just created: its record, and the plaintext, which is never available again. */
export interface CreatedApiKey {
  key: ApiKey;
  /** The secret to hand to the client: `lr-` followed by 40 base62 characters (≈ 238 random bits). */
  plaintext: string;
}

/** What generated the tokens of a usage event. */
export type TokenType = "llm" | "embedding";
/** Why the call was made (the `x-llm-relay-operation` header; default `query`). */
export type UsageOperation = "query" | "batch" | "internal";

/**
 * A usage event to record ({@link UsageLedger.record}, `trackTokenUsage`).
 * Only `model` is required; see the defaults of each field.
 */
export interface UsageEvent {
  /** Default `default`. */
  tenantId?: string;
  /** The API key that made the call; default null (no key). */
  keyId?: string | null;
  /** The model name the client asked for. */
  model: string;
  /** The provider kind that served it (`openai-compatible`, `ollama`…); default null. */
  provider?: string | null;
  /** Default `llm`. */
  tokenType?: TokenType;
  /** Default `query`. */
  operation?: UsageOperation;
  /** Prompt tokens; default 0. */
  inputTokens?: number;
  /** Completion tokens; default 0. */
  outputTokens?: number;
  /** Total tokens; default `inputTokens + outputTokens`. */
  tokens?: number;
  /** Cost in USD, or null when the model is unpriced; default null. */
  costUsd?: number | null;
  /** Whether the token counts were estimated by the proxy rather than reported; default false. */
  estimated?: boolean;
  /**
   * Makes the write idempotent: the ledger keeps one row per key, across all
   * tenants (a second event with the same key is answered with the first row).
   * Keys taken from clients should be scoped by the caller (e.g. `<tenant>:<key>`).
   * Default: a new unique key (`usage_<ulid>`), so the event is always written.
   */
  idempotencyKey?: string;
  /** Free JSON object stored with the row; default null. */
  metadata?: Record<string, unknown> | null;
  /** When the event happened; default now. */
  createdAt?: Instant;
}

/** A row of the ledger (`llm_relay_usage`): a {@link UsageEvent} with every default filled in. */
export interface UsageRow {
  /** Row id (`usage_<ulid>`). */
  id: string;
  tenantId: string;
  keyId: string | null;
  model: string;
  provider: string | null;
  tokenType: TokenType;
  operation: UsageOperation;
  inputTokens: number;
  outputTokens: number;
  tokens: number;
  costUsd: number | null;
  estimated: boolean;
  idempotencyKey: string;
  metadata: Record<string, unknown> | null;
  /** ISO-8601 UTC. */
  createdAt: string;
}

/** The answer of {@link UsageLedger.record}. */
export interface RecordUsageResult {
  /** The stored row: the new one, or, for a duplicate, the row the first event wrote. */
  row: UsageRow;
  /** True when a row with this idempotency key already existed (nothing was written). */
  duplicate: boolean;
}

/** How {@link UsageLedger.summary} groups rows: by model name, by UTC day (`YYYY-MM-DD`), or by key id. */
export type UsageGroupBy = "model" | "day" | "key";

/** A usage query: filters (all optional) and the grouping. */
export interface UsageQuery {
  tenant?: string;
  keyId?: string;
  /** Rows created at or after this instant. */
  since?: Instant;
  /** Rows created strictly before this instant. */
  until?: Instant;
  groupBy: UsageGroupBy;
}

/** One group of a usage summary. */
export interface UsageGroup {
  /** The model, the day (`YYYY-MM-DD`, UTC) or the key id (null: rows without a key). */
  group: string | null;
  /** Number of ledger rows. */
  events: number;
  inputTokens: number;
  outputTokens: number;
  tokens: number;
  /** Sum of the priced rows' cost, in USD. */
  costUsd: number;
  /** Rows whose cost is null (unpriced model). */
  unpriced: number;
  /** Whether any row's tokens were estimated. */
  estimated: boolean;
}

/** Whose spend {@link UsageLedger.spend} adds up: a tenant, a key, or a key within a tenant. */
export interface SpendScope {
  tenant?: string;
  keyId?: string;
}

/** Whose budget {@link UsageLedger.budgetSpend} reads: one key, or one tenant (every row of the tenant, any key). */
export type BudgetScope = { keyId: string; tenant?: undefined } | { tenant: string; keyId?: undefined };

/** State of an idempotency record: the first request is running, or its answer is stored. */
export type IdempotencyState = "in_progress" | "done";

/**
 * A stored answer, replayed to a retry: a whole body (JSON or error), or the
 * `data:` payloads of a stream (`[DONE]` included when it was sent), to be
 * written again as SSE.
 */
export type StoredResponse =
  | { kind: "body"; status: number; headers: Record<string, string>; body: string }
  | { kind: "sse"; status: number; headers: Record<string, string>; events: string[] };

/** An `Idempotency-Key` record (`llm_relay_idempotency`), keyed by (tenant, key). */
export interface IdempotencyRecord {
  tenant: string;
  key: string;
  /** {@link requestFingerprint} of the first request: a retry must send the same method, path and body. */
  fingerprint: string;
  state: IdempotencyState;
  /** The stored answer once `done`, else null. */
  response: StoredResponse | null;
  /** ISO-8601 UTC. */
  createdAt: string;
  /** ISO-8601 UTC, or null while in progress. */
  completedAt: string | null;
  /** After this (ISO-8601 UTC) the key may be used again for another request. */
  expiresAt: string;
}

/** Which request an idempotency call is about. */
export interface IdempotencyTarget {
  tenant: string;
  /** The client's `Idempotency-Key`. */
  key: string;
  /** {@link requestFingerprint} of the request. */
  fingerprint: string;
}

/** Options of {@link IdempotencyStore.begin}. */
export interface BeginOptions {
  /** How long the answer is kept for replays, in ms, from the start (default 24 h). */
  ttlMs?: number;
  /**
   * How long an `in_progress` record blocks retries, in ms (default 10 min):
   * after it, the first request is taken to have died (crashed instance) and a
   * retry may start again.
   */
  lockMs?: number;
  /** The current time (tests), default now. */
  now?: Instant;
}

/**
 * The answer of {@link IdempotencyStore.begin}:
 * - `started`: this caller owns the key; run the request, then `complete` (or `release`);
 * - `in_progress`: another request with this key is running (HTTP 409 `idempotency_in_progress`);
 * - `done`: replay `record.response`, call nothing upstream, bill nothing;
 * - `mismatch`: the key was used for a different request (another fingerprint) — a conflict.
 */
export type BeginResult =
  | { outcome: "started" }
  | { outcome: "in_progress"; record: IdempotencyRecord }
  | { outcome: "done"; record: IdempotencyRecord }
  | { outcome: "mismatch"; record: IdempotencyRecord };
