/**
 * Text formats of llm's logs.db (see docs/llm-logs-db.md, "Formats").
 */

/** llm's `CONVERSATION_NAME_LENGTH`. */
const NAME_LENGTH = 32;

/**
 * `YYYY-MM-DD` and `HH:MM:SS[.ffffff]` of a UTC time, as Python prints a
 * datetime: six digits of microseconds, none at all when they are 0.
 * @param ms ms since the epoch; a fractional part is sub-ms time, kept to the µs (rounded)
 */
function utcParts(ms: number): [string, string] {
  const us = Math.round(ms * 1000);
  const wholeMs = Math.floor(us / 1000);
  const iso = new Date(wholeMs).toISOString(); // 2026-11-21T09:00:00.100Z; RangeError when out of range
  const micros = ((us % 1_000_000) + 1_000_000) % 1_000_000;
  const time = micros === 0 ? iso.slice(11, 19) : `${iso.slice(11, 19)}.${String(micros).padStart(6, "0")}`;
  return [iso.slice(0, 10), time];
}

/**
 * `responses.datetime_utc` / `turns.datetime_utc`: Python's `isoformat()`
 * of a UTC datetime, e.g. `2026-11-21T09:00:00.100123+00:00`
 * (`2026-11-21T09:00:00+00:00` when the microseconds are 0).
 * @param ms ms since the epoch, with sub-ms time as a fractional part (µs resolution)
 * @throws RangeError for a time `Date` cannot represent
 */
export function llmDatetime(ms: number): string {
  const [date, time] = utcParts(ms);
  return `${date}T${time}+00:00`;
}

/**
 * `threads.datetime_utc`: Python's `str()` of a UTC datetime, e.g.
 * `2026-11-21 09:10:00.100123+00:00` (a space instead of `T`;
 * `2026-11-21 09:10:00+00:00` when the microseconds are 0).
 * @param ms ms since the epoch, with sub-ms time as a fractional part (µs resolution)
 * @throws RangeError for a time `Date` cannot represent
 */
export function threadDatetime(ms: number): string {
  const [date, time] = utcParts(ms);
  return `${date} ${time}+00:00`;
}

/**
 * The start of a recorded exchange as {@link llmDatetime} and
 * {@link threadDatetime} take it: `startedAtUs` in ms (fractional), or
 * `startedAt` for a record that has no µs.
 */
export function startMs(record: { startedAt: number; startedAtUs?: number | undefined }): number {
  return record.startedAtUs === undefined ? record.startedAt : record.startedAtUs / 1000;
}

/**
 * A conversation/thread name as llm makes it: whitespace runs collapsed
 * to one space; longer than 32 characters (code points) → the first 31
 * plus `…`.
 */
export function conversationName(text: string): string {
  const collapsed = text.replace(/\s+/gu, " ");
  const chars = Array.from(collapsed);
  if (chars.length <= NAME_LENGTH) return collapsed;
  return `${chars.slice(0, NAME_LENGTH - 1).join("")}…`;
}
