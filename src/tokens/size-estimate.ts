/**
 * A token estimate from the size of a text alone, for texts too long to
 * count where the count would run (the event loop, the recorder's batch).
 */

/** UTF-8 bytes per token assumed by {@link estimateTokensFromSize}: OpenAI's rule of thumb for English (about 4 characters a token). */
export const BYTES_PER_TOKEN = 4;

/**
 * Estimated o200k tokens of `text`: its UTF-8 length over {@link BYTES_PER_TOKEN},
 * rounded up. Costs one native pass over the string. Over the real count for
 * long runs of one letter (about 8 bytes a token), under it for CJK, emoji and
 * random text (1–3 bytes a token), so never use it as a bound.
 */
export function estimateTokensFromSize(text: string): number {
  return Math.ceil(Buffer.byteLength(text, "utf8") / BYTES_PER_TOKEN);
}
