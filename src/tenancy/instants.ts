/**
 * Times and durations of the tenancy stores: {@link Instant}s to ms and
 * ISO-8601 UTC text, and human durations (`30d`, `12h`) to ms.
 */
import { TenancyInputError } from "./store.js";
import type { Instant } from "./types.js";

/**
 * An instant in ms since the epoch.
 * @throws TenancyInputError for an unparseable string or a non-finite number
 */
export function instantMs(value: Instant): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === "number" ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new TenancyInputError(`not a time: ${String(value)}`);
  return ms;
}

/** An instant as ISO-8601 UTC with milliseconds (`2026-11-21T13:51:12.123Z`), which sorts as text in time order. */
export function isoUtc(value: Instant): string {
  return new Date(instantMs(value)).toISOString();
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/i;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A duration such as `30d`, `12h`, `90m`, `45s`, `2w` or `500ms`, in whole ms.
 * @throws TenancyInputError for anything else, or a zero duration
 */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new TenancyInputError(`not a duration (e.g. 30d, 12h, 90m, 45s, 2w): '${text}'`);
  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2]!.toLowerCase()]!);
  if (ms <= 0) throw new TenancyInputError(`duration must be positive: '${text}'`);
  return ms;
}

/** A duration in ms in its largest whole unit (`30d`, `36h`, `90m`, `45s`, `500ms`; weeks as days), for display. */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"] as const) {
    const size = UNIT_MS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
