/**
 * `trackTokenUsage()`: the library's way to write a usage-ledger row (the
 * original design's `track_token_usage`), for services that call models
 * without going through the proxy. Like the library's other functions it
 * never throws or rejects: failures come back as `success: false`.
 */
import { describeTarget, openTenancyStore, resolveTenancyTarget, type TenancyTarget } from "./open-store.js";
import type { TenancyStore } from "./store.js";
import type { UsageEvent, UsageRow } from "./types.js";

/** Where {@link trackTokenUsage} writes. Default: the config's database (`loadConfig()`). */
export interface TrackTokenUsageOptions {
  /** An open store to write to (the caller keeps and closes it). */
  store?: TenancyStore;
  /** A PostgreSQL URL (`postgres://…`). */
  databaseUrl?: string;
  /** A SQLite logs.db path. */
  db?: string;
  /** A config file whose database to use. */
  config?: string;
}

/** The answer of {@link trackTokenUsage}. */
export type TrackTokenUsageResult =
  | {
      success: true;
      /** The ledger row: the new one, or the first one written with this idempotency key. */
      data: UsageRow;
      /** True when the idempotency key had been recorded before (nothing new was written). */
      duplicate: boolean;
    }
  | {
      success: false;
      data: null;
      duplicate: false;
      /** What went wrong: an invalid event (`invalid usage event: inputTokens: …`), or the database's error. */
      error: string;
    };

/** Stores opened for the default targets, one per database, kept for later calls. */
const openStores = new Map<string, Promise<TenancyStore>>();
let closeHooked = false;

/**
 * Records one billable event in the usage ledger, idempotently: the same
 * `idempotencyKey` twice gives one row, and the second call answers
 * `duplicate: true` with the first row.
 *
 * The database is `options.store`, else `options.databaseUrl`, else
 * `options.db`, else the config's (`options.config` or the usual lookup:
 * `$LLM_RELAY_CONFIG`, `./llm-relay.yaml`; its `database_url`, else its
 * logs.db). Stores it opens are kept for later calls and closed by
 * {@link closeTokenUsageStores} or when the process is about to exit.
 *
 * @param event the event; only `model` is required (see {@link UsageEvent} for the defaults)
 * @returns `{ success: true, data, duplicate }`, or `{ success: false, error }`; never rejects
 *
 * @example
 * const result = await trackTokenUsage({ model: "gpt-4o-mini", tenantId: "acme", inputTokens: 120, outputTokens: 30,
 *   costUsd: 0.000036, idempotencyKey: "job-42" });
 * if (result.success && result.duplicate) console.log("already recorded", result.data.id);
 */
export async function trackTokenUsage(
  event: UsageEvent,
  options: TrackTokenUsageOptions = {},
): Promise<TrackTokenUsageResult> {
  try {
    const store = options.store ?? (await storeFor(resolveTenancyTarget(options)));
    const { row, duplicate } = await store.ledger.record(event);
    return { success: true, data: row, duplicate };
  } catch (error) {
    return {
      success: false,
      data: null,
      duplicate: false,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** Closes the stores {@link trackTokenUsage} opened (the next call opens them again). */
export async function closeTokenUsageStores(): Promise<void> {
  const stores = [...openStores.values()];
  openStores.clear();
  await Promise.all(stores.map(async (pending) => (await pending.catch(() => null))?.close()));
}

/** The kept store of a target, opened on first use; a failed open is forgotten so the next call retries. */
function storeFor(target: TenancyTarget): Promise<TenancyStore> {
  const id = `${target.kind}:${target.kind === "sqlite" ? target.path : target.databaseUrl}`;
  let pending = openStores.get(id);
  if (!pending) {
    // A short idle timeout lets a script's process exit soon after its last call.
    const opened = openTenancyStore(
      target.kind === "postgres" ? { ...target, options: { idleTimeoutS: 2, max: 4, ...target.options } } : target,
    );
    pending = opened.catch((error: unknown) => {
      openStores.delete(id);
      throw new Error(
        `cannot open the usage ledger at ${describeTarget(target)}: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    openStores.set(id, pending);
    if (!closeHooked) {
      closeHooked = true;
      process.once("beforeExit", () => {
        closeHooked = false;
        void closeTokenUsageStores();
      });
    }
  }
  return pending;
}
