/**
 * Text formats of llm's logs.db (see docs/llm-logs-db.md, "Formats").
 */

/** llm's `CONVERSATION_NAME_LENGTH`. */
const NAME_LENGTH = 32;

/** `YYYY-MM-DD`, `HH:MM:SS.ffffff` (microseconds, always six digits) of a UTC time. */
function utcParts(ms: number): [string, string] {
  const iso = new Date(ms).toISOString(); // 2026-11-21T09:00:00.100Z
  const date = iso.slice(0, 10);
  const time = `${iso.slice(11, 23)}000`;
  return [date, time];
}

/**
 * `responses.datetime_utc` / `turns.datetime_utc`: Python's `isoformat()`
 * of a UTC datetime, e.g. `2026-11-21T09:00:00.100000+00:00`.
 * @param ms ms since the epoch
 * @throws RangeError for a time `Date` cannot represent
 */
export function llmDatetime(ms: number): string {
  const [date, time] = utcParts(ms);
  return `${date}T${time}+00:00`;
}

/**
 * `threads.datetime_utc`: Python's `str()` of a UTC datetime, e.g.
 * `2026-11-21 09:10:00.000000+00:00` (a space instead of `T`).
 * @param ms ms since the epoch
 * @throws RangeError for a time `Date` cannot represent
 */
export function threadDatetime(ms: number): string {
  const [date, time] = utcParts(ms);
  return `${date} ${time}+00:00`;
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
