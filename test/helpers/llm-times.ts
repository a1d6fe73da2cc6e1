/**
 * llm's `datetime_utc` texts (docs/llm-logs-db.md), for tests of what the
 * recorder writes.
 */

/** Python `datetime.isoformat()` of an aware UTC datetime (`responses`, `turns`, the relay's tables). */
export const ISOFORMAT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/;
/** Python `str()` of an aware UTC datetime (`threads`). */
export const PY_STR = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00$/;

/** µs since the epoch of an llm `datetime_utc` text (either form). */
export function micros(text: string): number {
  const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d{6}))?\+00:00$/.exec(text);
  if (!m) throw new Error(`not an llm datetime: ${text}`);
  return Date.parse(`${m[1]}T${m[2]}Z`) * 1000 + Number(m[3] ?? "0");
}
