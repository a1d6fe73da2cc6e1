/**
 * Times one query: a warm-up run, then `repeats` runs one after the other,
 * each measured alone (ms, `performance.now`), summarised as p50, p95, max.
 * A slow query stops repeating once its runs have taken `budgetMs` (after at least 3 runs).
 */
import { performance } from "node:perf_hooks";

/** A query's times over its repeats, ms. */
export interface Timing {
  p50: number;
  p95: number;
  max: number;
  /** Timed runs (fewer than asked when the time budget ran out). */
  runs: number;
}

/** Fewest timed runs of a query, whatever the budget. */
export const MIN_RUNS = 3;

/** The nearest-rank percentile `p` (0–100) of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/**
 * Runs `query` once to warm up, then `repeats` times, or fewer (but {@link MIN_RUNS}) once the timed runs took `budgetMs`.
 * @returns the timing and what the warm-up run returned
 * @throws what `query` throws
 */
export async function timeQuery<T>(
  query: () => Promise<T>,
  repeats: number,
  budgetMs: number = Number.POSITIVE_INFINITY,
): Promise<{ timing: Timing; result: T }> {
  const result = await query();
  const times: number[] = [];
  let spent = 0;
  for (let i = 0; i < repeats && (i < MIN_RUNS || spent < budgetMs); i++) {
    const t0 = performance.now();
    await query();
    times.push(performance.now() - t0);
    spent += times[times.length - 1]!;
  }
  times.sort((a, b) => a - b);
  return {
    timing: {
      p50: percentile(times, 50),
      p95: percentile(times, 95),
      max: times[times.length - 1]!,
      runs: times.length,
    },
    result,
  };
}
