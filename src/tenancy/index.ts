/**
 * Tenancy: API keys, the usage ledger and `Idempotency-Key` records, on
 * SQLite (the logs.db) or PostgreSQL, behind {@link TenancyStore}.
 */
export type { IdempotencyStore, KeyStore, TenancyStore, UsageLedger } from "./store.js";
export { TenancyInputError } from "./store.js";
export * from "./types.js";
export { hashKey, isKeyShaped, visiblePrefix, KEY_PREFIX } from "./api-keys.js";
export { DEFAULT_IDEMPOTENCY_LOCK_MS, DEFAULT_IDEMPOTENCY_TTL_MS, requestFingerprint } from "./idempotency.js";
export { formatDuration, parseDuration } from "./instants.js";
export {
  describeTarget,
  openTenancyStore,
  resolveTenancyTarget,
  targetOfConfig,
  type TargetOptions,
  type TenancyTarget,
} from "./open-store.js";
export { PostgresTenancyStore, type PostgresTenancyOptions } from "./postgres/postgres-tenancy-store.js";
export { SqliteTenancyStore, type SqliteTenancyOptions } from "./sqlite/sqlite-tenancy-store.js";
export {
  closeTokenUsageStores,
  trackTokenUsage,
  type TrackTokenUsageOptions,
  type TrackTokenUsageResult,
} from "./track-token-usage.js";
export { usageEventSchema, usageRowOf } from "./usage-event.js";
export { NANO_USD_PER_USD, nanoUsdToUsd, usdToNanoUsd } from "./nano-usd.js";
