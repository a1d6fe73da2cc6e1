/**
 * The bench's access to logs.db: runs and results (`bench_runs`,
 * `bench_results`), the exchange rows the recorder wrote for bench calls
 * (`llm_relay_exchanges`), and moving those into the run's conversations.
 * One better-sqlite3 connection (WAL, busy timeout 5 s), opened on a file
 * that gets llm's schema and ours when missing.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Database as Db } from "better-sqlite3";
import { llmDatetime } from "../../recording/llm-format.js";
import { ensureSchema } from "../../recording/sqlite/schema.js";
import type { BenchResult, BenchRun, RunSettings, RunStatus, Scores, SelectionFilters } from "../types.js";
import { rehomeExchange, type BenchConversation } from "./rehome.js";
import { ensureBenchSchema } from "./schema.js";

/** What the recorder stored of a bench call (our `llm_relay_exchanges` row). */
export interface ExchangeInfo {
  status: string | null;
  ttftMs: number | null;
  usageEstimated: boolean;
  costUsd: number | null;
}

/** One line of `bench list`. */
export interface RunListing {
  id: string;
  createdUtc: string;
  status: RunStatus;
  candidates: string[];
  cases: number;
  /** cases × candidates × repeat. */
  tasks: number;
  /** Results stored so far. */
  results: number;
  errors: number;
}

interface RunRow {
  id: string;
  created_utc: string;
  finished_utc: string | null;
  status: RunStatus;
  candidates_json: string;
  case_ids_json: string;
  selection_json: string;
  settings_json: string;
  conversations_json: string;
}

interface ResultRow {
  run_id: string;
  case_id: string;
  candidate: string;
  repeat_index: number;
  response_id: string | null;
  conversation_id: string | null;
  output_text: string | null;
  ttft_ms: number | null;
  total_ms: number | null;
  tokens_per_s: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  usage_estimated: number | null;
  cost_usd: number | null;
  finish_reason: string | null;
  error: string | null;
  scores_json: string | null;
  datetime_utc: string;
}

/** The key of one task: case, candidate and repeat. */
export function taskKey(caseId: string, candidate: string, repeat: number): string {
  return `${caseId}\u0000${candidate}\u0000${repeat}`;
}

/** Runs and results of `llm-relay bench` in a logs.db. */
export class BenchStore {
  private constructor(readonly db: Db) {}

  /**
   * Opens (creating when needed) the logs.db at `path` with llm's schema,
   * ours and the bench tables.
   * @throws when the file cannot be opened or its schema cannot be completed (see `ensureSchema`)
   */
  static open(path: string): BenchStore {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      db.pragma("busy_timeout = 5000");
      db.pragma("journal_mode = WAL");
      db.pragma("foreign_keys = OFF");
      ensureSchema(db);
      ensureBenchSchema(db);
      return new BenchStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Stores a new run. */
  createRun(run: BenchRun): void {
    this.db
      .prepare(
        `INSERT INTO bench_runs (id, created_utc, finished_utc, status, candidates_json, case_ids_json, selection_json, settings_json, conversations_json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        run.id,
        run.createdUtc,
        run.finishedUtc,
        run.status,
        JSON.stringify(run.candidates),
        JSON.stringify(run.caseIds),
        JSON.stringify(run.selection),
        JSON.stringify(run.settings),
        JSON.stringify(run.conversations),
      );
  }

  /** The run `id`, or null when there is none. */
  getRun(id: string): BenchRun | null {
    const row = this.db.prepare(`SELECT * FROM bench_runs WHERE id = ?`).get(id.toLowerCase()) as RunRow | undefined;
    return row ? toRun(row) : null;
  }

  /** Every run, newest first, with its progress. */
  listRuns(): RunListing[] {
    const rows = this.db
      .prepare(
        `SELECT r.*, (SELECT count(*) FROM bench_results b WHERE b.run_id = r.id) AS results,
                (SELECT count(*) FROM bench_results b WHERE b.run_id = r.id AND b.error IS NOT NULL) AS errors
           FROM bench_runs r ORDER BY r.id DESC`,
      )
      .all() as (RunRow & { results: number; errors: number })[];
    return rows.map((row) => {
      const run = toRun(row);
      return {
        id: run.id,
        createdUtc: run.createdUtc,
        status: run.status,
        candidates: run.candidates,
        cases: run.caseIds.length,
        tasks: run.caseIds.length * run.candidates.length * run.settings.repeat,
        results: row.results,
        errors: row.errors,
      };
    });
  }

  /** Sets a run's status (and, for `done`, its finish time). */
  setStatus(id: string, status: RunStatus): void {
    this.db
      .prepare(`UPDATE bench_runs SET status = ?, finished_utc = ? WHERE id = ?`)
      .run(status, status === "done" ? llmDatetime(Date.now()) : null, id);
  }

  /** Records the conversation of `label` (a candidate, or `judge`) for a run. */
  setConversation(runId: string, label: string, conversationId: string): void {
    this.db.transaction(() => {
      const row = this.db.prepare(`SELECT conversations_json AS c FROM bench_runs WHERE id = ?`).get(runId) as
        { c: string } | undefined;
      const map = row ? (JSON.parse(row.c) as Record<string, string>) : {};
      map[label] = conversationId;
      this.db.prepare(`UPDATE bench_runs SET conversations_json = ? WHERE id = ?`).run(JSON.stringify(map), runId);
    })();
  }

  /** Stores (or replaces) one result. */
  saveResult(result: BenchResult): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO bench_results (run_id, case_id, candidate, repeat_index, response_id, conversation_id, output_text,
           ttft_ms, total_ms, tokens_per_s, input_tokens, output_tokens, usage_estimated, cost_usd, finish_reason, error, scores_json,
           judge_response_id, datetime_utc)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        result.runId,
        result.caseId,
        result.candidate,
        result.repeat,
        result.responseId,
        result.conversationId,
        result.outputText,
        result.ttftMs,
        result.totalMs,
        result.tokensPerSecond,
        result.inputTokens,
        result.outputTokens,
        result.usageEstimated ? 1 : 0,
        result.costUsd,
        result.finishReason,
        result.error,
        result.scores ? JSON.stringify(result.scores) : null,
        result.scores?.judge?.responseId ?? null,
        result.datetimeUtc,
      );
  }

  /** Every result of a run, by case, candidate and repeat. */
  results(runId: string): BenchResult[] {
    const rows = this.db
      .prepare(`SELECT * FROM bench_results WHERE run_id = ? ORDER BY case_id, candidate, repeat_index`)
      .all(runId) as ResultRow[];
    return rows.map(toResult);
  }

  /** The keys ({@link taskKey}) of the tasks of a run that have a stored result. */
  doneKeys(runId: string): Set<string> {
    const rows = this.db
      .prepare(`SELECT case_id, candidate, repeat_index FROM bench_results WHERE run_id = ?`)
      .all(runId) as ResultRow[];
    return new Set(rows.map((row) => taskKey(row.case_id, row.candidate, row.repeat_index)));
  }

  /** The recorder's row of a bench call, or null when it was not recorded. */
  exchangeInfo(responseId: string): ExchangeInfo | null {
    const row = this.db
      .prepare(`SELECT status, ttft_ms, usage_estimated, cost_usd FROM llm_relay_exchanges WHERE response_id = ?`)
      .get(responseId) as
      | { status: string | null; ttft_ms: number | null; usage_estimated: number | null; cost_usd: number | null }
      | undefined;
    if (!row) return null;
    return {
      status: row.status,
      ttftMs: row.ttft_ms,
      usageEstimated: row.usage_estimated === 1,
      costUsd: row.cost_usd,
    };
  }

  /** Moves a recorded bench call into `target` (see `rehome.ts`); false when it was not recorded. */
  rehome(responseId: string, target: BenchConversation): boolean {
    return rehomeExchange(this.db, responseId, target);
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toRun(row: RunRow): BenchRun {
  return {
    id: row.id,
    createdUtc: row.created_utc,
    finishedUtc: row.finished_utc,
    status: row.status,
    candidates: JSON.parse(row.candidates_json) as string[],
    caseIds: JSON.parse(row.case_ids_json) as string[],
    selection: JSON.parse(row.selection_json) as SelectionFilters,
    settings: JSON.parse(row.settings_json) as RunSettings,
    conversations: JSON.parse(row.conversations_json) as Record<string, string>,
  };
}

function toResult(row: ResultRow): BenchResult {
  return {
    runId: row.run_id,
    caseId: row.case_id,
    candidate: row.candidate,
    repeat: row.repeat_index,
    responseId: row.response_id,
    conversationId: row.conversation_id,
    outputText: row.output_text ?? "",
    ttftMs: row.ttft_ms,
    totalMs: row.total_ms ?? 0,
    tokensPerSecond: row.tokens_per_s,
    inputTokens: row.input_tokens ?? 0,
    outputTokens: row.output_tokens ?? 0,
    usageEstimated: row.usage_estimated === 1,
    costUsd: row.cost_usd,
    finishReason: row.finish_reason,
    error: row.error,
    scores: row.scores_json ? (JSON.parse(row.scores_json) as Scores) : null,
    datetimeUtc: row.datetime_utc,
  };
}
