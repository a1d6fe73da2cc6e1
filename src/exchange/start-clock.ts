/**
 * The start time of an exchange, with microseconds: llm writes
 * `datetime_utc` with real microseconds (Python's `datetime.now()`), and
 * `Date.now()` has only ms. The sub-ms part comes from the monotonic clock
 * (`performance.timeOrigin + performance.now()`); the ms stay the wall
 * clock's (`Date.now()`), so a record's ULID time and its `datetime_utc`
 * agree on the ms.
 */
import { performance } from "node:perf_hooks";

/** One start time: `ms` and `us` since the epoch, integers, with `ms === Math.floor(us / 1000)`. */
export interface StartTime {
  /** ms since the epoch (the ULID's time part, `startedAt`). */
  ms: number;
  /** µs since the epoch (`startedAtUs`). */
  us: number;
}

/** Wall-clock ms of `performance.now()` 0; moved when the wall clock steps or drifts away from the monotonic one. */
let offsetMs = performance.timeOrigin;
/** The latest `us` handed out: times never go backwards. */
let lastUs = 0;
/** How far (ms) the monotonic estimate may stray from `Date.now()` before it is re-anchored on it. */
const RESYNC_MS = 2;

/**
 * Now, as the start of an exchange: the wall clock's ms with the
 * monotonic clock's µs inside it. Two calls in order give non-decreasing
 * `us` (and so `ms`), even when the wall clock steps back.
 */
export function startTime(): StartTime {
  const wall = Date.now();
  let precise = offsetMs + performance.now();
  if (Math.abs(precise - wall) > RESYNC_MS) {
    offsetMs = wall - performance.now();
    precise = offsetMs + performance.now();
  }
  // Within the wall clock's ms: when the two clocks disagree by a little, its first or last µs.
  const base = wall * 1000;
  let us = Math.min(base + 999, Math.max(base, Math.floor(precise * 1000)));
  if (us < lastUs) us = lastUs;
  lastUs = us;
  return { ms: Math.floor(us / 1000), us };
}
