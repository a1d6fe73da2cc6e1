/**
 * A bench answer's output rate, in tokens per second of generation: the
 * output tokens over the time between the first text delta and the end of
 * the answer (total − TTFT), never over the time the candidate took to
 * start. A figure that cannot be a generation rate is refused (null, shown
 * as `—`): see {@link tokensPerSecond}.
 */

/**
 * The highest rate reported, in tokens/s. Served models stream at tens to
 * a few hundred tokens/s per request (the fastest dedicated hardware at a
 * few thousand); a higher figure means the answer arrived in one piece
 * (buffered by the upstream or something in between), not that it was
 * generated that fast.
 */
export const MAX_PLAUSIBLE_TOKENS_PER_SECOND = 5000;

/** The shortest generation time a rate is computed over, in ms: below it, timer resolution and a single event-loop turn dominate. */
export const MIN_GENERATION_MS = 10;

/**
 * Output tokens per second of generation: `outputTokens / (totalMs − ttftMs)`, rounded to 0.1.
 * Null (no figure) when there is no TTFT (no text came), fewer than 2 output tokens (one token
 * has no generation time), less than {@link MIN_GENERATION_MS} of generation, or a rate above
 * {@link MAX_PLAUSIBLE_TOKENS_PER_SECOND}.
 * @param totalMs ms from the call to the last token
 * @param ttftMs ms from the call to the first text delta
 */
export function tokensPerSecond(outputTokens: number, totalMs: number, ttftMs: number | null): number | null {
  if (ttftMs === null || outputTokens < 2) return null;
  const generationMs = totalMs - ttftMs;
  if (!(generationMs >= MIN_GENERATION_MS)) return null;
  const rate = (outputTokens * 1000) / generationMs;
  return rate > MAX_PLAUSIBLE_TOKENS_PER_SECOND ? null : Math.round(rate * 10) / 10;
}
