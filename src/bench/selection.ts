/**
 * Which recorded responses a run replays: the `bench` selection flags as
 * SQL over `responses` (joined with our `llm_relay_exchanges`), then the
 * `--limit` and the seeded `--sample`.
 *
 * Only live exchanges are cases: 0-token history rows (written for the
 * earlier turns of a conversation first seen mid-way) are never replayed on
 * their own, failed exchanges have no reference answer, and the answers of
 * earlier bench runs (candidates' and judges') are left out.
 */
import type { Database } from "better-sqlite3";
import { llmDatetime } from "../recording/llm-format.js";
import { buildCase, UnreplayableCase, type RecordedRow } from "./case-builder.js";
import type { BenchCase, SelectionFilters, SkippedCase } from "./types.js";

/** The cases selected, in chronological order, and the matches that cannot be replayed. */
export interface Selection {
  cases: BenchCase[];
  skipped: SkippedCase[];
}

/** A bad selection flag. */
export class SelectionError extends Error {}

const RELATIVE = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/i;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A `--since`/`--until` value as llm's `datetime_utc` text (which sorts by time):
 * an ISO date (`2026-11-21`, midnight UTC), date-time (`2026-11-21T09:00`, UTC unless it names a zone)
 * or an age before `now` (`30m`, `12h`, `7d`, `2w`).
 * @throws SelectionError for anything else
 */
export function parseTimeBound(value: string, now: number = Date.now()): string {
  const trimmed = value.trim();
  const relative = RELATIVE.exec(trimmed);
  if (relative) return llmDatetime(now - Number(relative[1]) * UNIT_MS[relative[2]!.toLowerCase()]!);
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed);
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? `${trimmed}T00:00:00Z` : hasZone ? trimmed : `${trimmed}Z`;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(trimmed) ? Date.parse(iso) : Number.NaN;
  if (!Number.isFinite(ms)) throw new SelectionError(`not a date, date-time or age (30m, 12h, 7d): '${value}'`);
  // Date.parse keeps ms only: a logged datetime_utc's 4th to 6th fraction digits are added back, so it bounds itself exactly.
  const subMs = /[T ]\d{2}:\d{2}:\d{2}\.\d{3}(\d{1,3})/.exec(trimmed)?.[1];
  return llmDatetime(subMs === undefined ? ms : ms + Number(subMs.padEnd(3, "0")) / 1000);
}

/** An FTS5 query where every word of `text` must occur (each word quoted, as `llm logs -q` does). */
export function ftsQuery(text: string): string {
  const words = text.split(/\s+/).filter((word) => word.length > 0);
  if (words.length === 0) throw new SelectionError("--search needs some text");
  return words.map((word) => `"${word.replaceAll('"', '""')}"`).join(" ");
}

/** A seeded uniform random source in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` items of `items` drawn without replacement by a seeded shuffle, kept in their original order. */
export function sampleSeeded<T>(items: readonly T[], n: number, seed: number): T[] {
  if (n >= items.length) return [...items];
  const random = seededRandom(seed);
  const indexes = items.map((_, i) => i);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (indexes.length - i));
    [indexes[i], indexes[j]] = [indexes[j]!, indexes[i]!];
  }
  return indexes
    .slice(0, n)
    .sort((a, b) => a - b)
    .map((i) => items[i]!);
}

const COLUMNS = `r.id, r.model, r.prompt_json, r.response, r.conversation_id, r.datetime_utc, r.input_tokens, r.output_tokens, x.protocol`;

/** SQL condition: a live exchange with an answer, not a history row, not a bench answer. */
const REPLAYABLE = `
  NOT (coalesce(r.input_tokens, 0) = 0 AND coalesce(r.output_tokens, 0) = 0 AND x.response_id IS NULL)
  AND (x.status = 'ok' OR (x.response_id IS NULL AND coalesce(r.response, '') <> ''))
  AND r.prompt_json IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM bench_results b WHERE b.response_id = r.id OR b.judge_response_id = r.id)
  AND coalesce(r.conversation_id, '') NOT IN (SELECT c.value FROM bench_runs br, json_each(br.conversations_json) c)`;

/**
 * The cases `filters` select, oldest first. `--limit N` keeps the N most
 * recent matches; `--sample N` then keeps N of them drawn with `seed`.
 * @throws SelectionError for a bad `since`/`until`/`search`
 */
export function selectCases(db: Database, filters: SelectionFilters, now: number = Date.now()): Selection {
  const where: string[] = [REPLAYABLE];
  const params: unknown[] = [];
  if (filters.model) {
    where.push(`(r.model = ? OR r.resolved_model = ?)`);
    params.push(filters.model, filters.model);
  }
  if (filters.conversation) {
    where.push(`r.conversation_id = ?`);
    params.push(filters.conversation);
  }
  if (filters.since) {
    where.push(`r.datetime_utc >= ?`);
    params.push(parseTimeBound(filters.since, now));
  }
  if (filters.until) {
    where.push(`r.datetime_utc < ?`);
    params.push(parseTimeBound(filters.until, now));
  }
  if (filters.search) {
    where.push(`r.rowid IN (SELECT rowid FROM responses_fts WHERE responses_fts MATCH ?)`);
    params.push(ftsQuery(filters.search));
  }
  const limit = filters.limit && filters.limit > 0 ? `LIMIT ${Math.floor(filters.limit)}` : "";
  const sql = `SELECT ${COLUMNS} FROM responses r LEFT JOIN llm_relay_exchanges x ON x.response_id = r.id
    WHERE ${where.join(" AND ")} ORDER BY r.id DESC ${limit}`;
  let rows = (db.prepare(sql).all(...params) as RecordedRow[]).reverse();
  if (filters.sample !== undefined && filters.sample >= 0) rows = sampleSeeded(rows, filters.sample, filters.seed ?? 0);
  const cases: BenchCase[] = [];
  const skipped: SkippedCase[] = [];
  for (const row of rows) {
    try {
      cases.push(buildCase(row));
    } catch (error) {
      if (!(error instanceof UnreplayableCase)) throw error;
      skipped.push({ id: row.id, reason: error.message });
    }
  }
  return { cases, skipped };
}

/**
 * The cases of a stored run, by source id, in the run's order.
 * @returns the cases found and the ids no longer replayable (deleted rows)
 */
export function loadCases(db: Database, ids: readonly string[]): Selection {
  const get = db.prepare(
    `SELECT ${COLUMNS} FROM responses r LEFT JOIN llm_relay_exchanges x ON x.response_id = r.id WHERE r.id = ?`,
  );
  const cases: BenchCase[] = [];
  const skipped: SkippedCase[] = [];
  for (const id of ids) {
    const row = get.get(id) as RecordedRow | undefined;
    if (!row) {
      skipped.push({ id, reason: "the recorded response is gone" });
      continue;
    }
    try {
      cases.push(buildCase(row));
    } catch (error) {
      if (!(error instanceof UnreplayableCase)) throw error;
      skipped.push({ id, reason: error.message });
    }
  }
  return { cases, skipped };
}
