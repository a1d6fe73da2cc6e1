/**
 * The JSON shapes of the browser's server-side routes that are not the record store's read model
 * (those are in `browse/types.ts`): budgets, bench runs, the Live page's snapshot and the server's
 * facts (`/ui/api/info`). Each travels inside the internal endpoints' envelope
 * `{success, message, data, metadata, error}` (`server/envelope.ts`), except the Live snapshot, which is
 * the `data:` of an SSE `snapshot` event. The page bundle (`ui/`) imports these as types only.
 */

/** A USD budget and how much of it the current period has used (`GET /ui/api/budgets`). */
export interface BudgetView {
  /** `key`: an API key's own budget (`keys create --budget-usd`); `tenant`: a tenant's (`tenants:` in the config). */
  scope: "key" | "tenant";
  /** The key id (`key_<ulid>`) or the tenant id. */
  id: string;
  /** The tenant (the key's, or the tenant itself). */
  tenant: string;
  /** The key's visible prefix (`lr_…`), null for a tenant. */
  prefix: string | null;
  /** USD per period. */
  budgetUsd: number;
  /** The period in ms, or null: a key's budget since its creation, a tenant's for all time. */
  periodMs: number | null;
  /** USD spent in the current period (from the usage ledger). */
  spentUsd: number;
  /** USD left (may be negative when an exchange went past the budget). */
  leftUsd: number;
}

/** One bench run (`GET /ui/api/bench/runs`), newest first; its report at `/ui/bench/<id>/report`. */
export interface BenchRunView {
  id: string;
  /** llm's `datetime_utc` text, UTC. */
  created: string;
  /** When it finished, or null (running or interrupted). */
  finished: string | null;
  status: "running" | "interrupted" | "done";
  /** The candidate model names. */
  candidates: string[];
  /** Number of cases. */
  cases: number;
  /** Results stored so far (cases × candidates × repeat when done). */
  results: number;
  /** Results that failed. */
  errors: number;
}

/** One exchange in flight on the Live page. */
export interface LiveExchange {
  /** The exchange id (`responses.id` once recorded). */
  id: string;
  /** The model the client asked for. */
  model: string;
  /** Inbound protocol (`chat`, `messages`, `responses`, `ollama`, `gemini`, `completions`, `embeddings`). */
  protocol: string;
  /** Tenant id, or null. */
  tenant: string | null;
  /** Start, ms since the epoch. */
  startedMs: number;
  /** ms since the start, when the snapshot was taken. */
  elapsedMs: number;
  streaming: boolean;
}

/** What `/ui/api/live` sends as each `snapshot` event (JSON). */
export interface LiveSnapshot {
  /** When the snapshot was taken, ms since the epoch. */
  at: number;
  /** The exchanges in flight, oldest first. */
  inFlight: LiveExchange[];
  /** Exchanges waiting in the recorder's queue (not yet written). */
  recorderQueued: number;
  /** The body `GET /health` would answer now (status, version, db, recorder, reasons, in_flight). */
  health: Record<string, unknown>;
}

/** The server's facts for the page (`GET /ui/api/info`). */
export interface UiInfo {
  /** llm-relay's version. */
  version: string;
  /** The record store: `path` is the SQLite file (for `llm -c --cid <id> -d <path>`), null on PostgreSQL. */
  store: { engine: "sqlite" | "postgresql"; path: string | null };
  /** Whether a Live page is served (false for `llm-relay ui`, which proxies nothing). */
  live: boolean;
  /** Whether the UI needs the master key (API keys exist). */
  auth: boolean;
}
