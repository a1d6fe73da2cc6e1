/**
 * The shapes of the server's own `/ui/api/*` answers (budgets, bench runs, the Live snapshot, `/ui/api/info`),
 * as src/server/ui/api-types.ts defines them (helper A's branch); kept here until that file is merged.
 */

/** A USD budget and how much of it the current period has used (`GET /ui/api/budgets`). */
export interface BudgetView {
  scope: "key" | "tenant";
  /** The key id (`key_<ulid>`) or the tenant id. */
  id: string;
  tenant: string;
  /** The key's visible prefix, null for a tenant. */
  prefix: string | null;
  /** USD per period. */
  budgetUsd: number;
  /** ms, or null (a key's whole life, a tenant's all time). */
  periodMs: number | null;
  /** USD spent in the current period. */
  spentUsd: number;
  /** USD left (negative once over). */
  leftUsd: number;
}

/** One bench run (`GET /ui/api/bench/runs`); its report at `/ui/bench/<id>/report`. */
export interface BenchRunView {
  id: string;
  created: string;
  finished: string | null;
  status: "running" | "interrupted" | "done";
  candidates: string[];
  cases: number;
  results: number;
  errors: number;
}

/** One exchange in flight. */
export interface LiveExchange {
  id: string;
  model: string;
  protocol: string;
  tenant: string | null;
  /** ms since the epoch. */
  startedMs: number;
  /** ms since the start, when the snapshot was taken. */
  elapsedMs: number;
  streaming: boolean;
}

/** The `snapshot` event of `/ui/api/live`. */
export interface LiveSnapshot {
  /** ms since the epoch. */
  at: number;
  inFlight: LiveExchange[];
  /** Exchanges waiting in the recorder's queue. */
  recorderQueued: number;
  /** `GET /health`'s body. */
  health: Record<string, unknown>;
}

/** `GET /ui/api/info`. */
export interface UiInfo {
  version: string;
  /** `path`: the SQLite file, null on PostgreSQL. */
  store: { engine: "sqlite" | "postgresql"; path: string | null };
  /** Whether the Live page is served (false for `llm-relay ui`). */
  live: boolean;
  /** Whether the UI needs the master key. */
  auth: boolean;
}
