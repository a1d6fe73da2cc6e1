/**
 * The tokenizer of the loopback fakes: one token per whitespace-led word
 * (the captured llama-server `/tokenize` split " Once upon a time" into
 * ` Once`, ` upon`, ` a`, ` time`), plus BOS (id 1, as in the captured
 * KoboldCpp tokencount `ids`) when special tokens are added. Deterministic,
 * so a test can tell the backend's count from the proxy's estimate.
 */

/** Token ids of `content`. */
export function fakeTokenize(content: string, addSpecial: boolean): number[] {
  const words = content.match(/\s*\S+/g) ?? [];
  const ids = words.map((word) => 3 + ([...word].reduce((sum, ch) => sum + ch.charCodeAt(0), 0) % 509));
  return addSpecial ? [1, ...ids] : ids;
}

/**
 * The text a fake tokenizes from a request field: the string itself, "" when absent, and anything
 * else as its JSON (so a prompt sent in an unexpected shape still counts, visibly, rather than as "").
 */
export function fieldText(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}
