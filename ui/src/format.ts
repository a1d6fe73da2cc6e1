/** Formatting of the numbers, times and money the pages show (en-US grouping, UTC times). */
import type { BoundedCount } from "../../src/browse/types.js";

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** `1,234`; `—` for null. */
export function formatInt(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : integer.format(value);
}

/** A bounded count: `1,234`, or `10,000+` when the count stopped at its cap. */
export function formatCount(count: BoundedCount | null): string {
  if (!count) return "";
  return count.exact ? integer.format(count.value) : `${integer.format(count.value)}+`;
}

/** USD with enough digits for small costs (`$0.000123`, `$1.23`); `—` for null (unpriced). */
export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  if (value === 0) return "$0";
  const abs = Math.abs(value);
  const digits = abs >= 0.1 ? 2 : abs >= 0.01 ? 3 : abs >= 0.0001 ? 5 : 7;
  return `${value < 0 ? "-" : ""}$${abs.toFixed(digits)}`;
}

/** A duration in ms: `840 ms`, `12.3 s`; `—` for null. */
export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(1)} s`;
  return `${Math.floor(value / 60_000)} min ${Math.round((value % 60_000) / 1000)} s`;
}

/** llm's `datetime_utc` (`2026-12-05T21:13:23.123456`, or with `+00:00`/`Z`) as `2026-12-05 21:13:23` (UTC). */
export function formatUtc(value: string | null | undefined): string {
  if (!value) return "—";
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})/.exec(value);
  return match ? `${match[1]} ${match[2]}` : value;
}

/** Shortens text to `max` characters with an ellipsis. */
export function clip(text: string | null | undefined, max: number): string {
  if (!text) return "";
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
