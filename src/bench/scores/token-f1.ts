/**
 * Token-level F1 of an answer against its reference, as SQuAD scores
 * answers: both texts lower-cased and split into words (runs of letters
 * and digits), compared as bags of words.
 */

/** The lower-cased words (letters and digits, any script) of `text`. */
export function wordTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * Harmonic mean of precision (shared words / answer words) and recall
 * (shared words / reference words), in [0, 1]. Two texts without words
 * score 1; one empty and one not, 0.
 */
export function tokenF1(answer: string, reference: string): number {
  const predicted = wordTokens(answer);
  const expected = wordTokens(reference);
  if (predicted.length === 0 || expected.length === 0) return predicted.length === expected.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const word of expected) counts.set(word, (counts.get(word) ?? 0) + 1);
  let shared = 0;
  for (const word of predicted) {
    const left = counts.get(word) ?? 0;
    if (left > 0) {
      shared++;
      counts.set(word, left - 1);
    }
  }
  if (shared === 0) return 0;
  const precision = shared / predicted.length;
  const recall = shared / expected.length;
  return (2 * precision * recall) / (precision + recall);
}
