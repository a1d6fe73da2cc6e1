/**
 * llm-relay bench's own tables, created next to llm's tables in the same
 * logs.db (llm ignores tables it does not know):
 *
 * - `bench_runs`: one row per run — candidates, the source response ids of
 *   its cases, the selection and settings (JSON), its status
 *   (`running` | `interrupted` | `done`) and the conversations its answers
 *   were recorded into;
 * - `bench_results`: one row per (run, case, candidate, repeat) — the
 *   answer, its timings (ms), tokens, cost (USD), error and scores (JSON).
 */
import type { Database } from "better-sqlite3";

const BENCH_DDL = `
CREATE TABLE IF NOT EXISTS "bench_runs" (
  "id" TEXT PRIMARY KEY,
  "created_utc" TEXT NOT NULL,
  "finished_utc" TEXT,
  "status" TEXT NOT NULL,
  "candidates_json" TEXT NOT NULL,
  "case_ids_json" TEXT NOT NULL,
  "selection_json" TEXT NOT NULL,
  "settings_json" TEXT NOT NULL,
  "conversations_json" TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS "bench_results" (
  "id" INTEGER PRIMARY KEY,
  "run_id" TEXT NOT NULL REFERENCES "bench_runs"("id"),
  "case_id" TEXT NOT NULL REFERENCES "responses"("id"),
  "candidate" TEXT NOT NULL,
  "repeat_index" INTEGER NOT NULL DEFAULT 0,
  "response_id" TEXT REFERENCES "responses"("id"),
  "conversation_id" TEXT REFERENCES "conversations"("id"),
  "output_text" TEXT,
  "ttft_ms" REAL,
  "total_ms" REAL,
  "tokens_per_s" REAL,
  "input_tokens" INTEGER,
  "output_tokens" INTEGER,
  "usage_estimated" INTEGER,
  "cost_usd" REAL,
  "finish_reason" TEXT,
  "error" TEXT,
  "scores_json" TEXT,
  "judge_response_id" TEXT,
  "datetime_utc" TEXT NOT NULL,
  UNIQUE ("run_id", "case_id", "candidate", "repeat_index"));
CREATE INDEX IF NOT EXISTS "bench_results_response" ON "bench_results" ("response_id");
`;

/** Creates the bench tables if missing (idempotent). Call after the logs.db schema exists. */
export function ensureBenchSchema(db: Database): void {
  db.exec(BENCH_DDL);
}
