/**
 * Similarity of an answer to its reference by normalized edit distance:
 * 1 − Levenshtein(a, b) / max(|a|, |b|), over Unicode code points
 * (1 = identical, 0 = nothing in common; two empty texts are identical).
 */

/** Above this many cell updates (|a| × |b|), texts are compared word by word instead of character by character. */
export const MAX_CHAR_CELLS = 400_000_000;

/**
 * Levenshtein distance between two sequences (insertions, deletions and
 * substitutions cost 1), in O(|a|·|b|) time and O(min) memory.
 */
export function levenshtein<T>(a: readonly T[], b: readonly T[]): number {
  if (a.length < b.length) [a, b] = [b, a];
  if (b.length === 0) return a.length;
  let previous = new Uint32Array(b.length + 1);
  let current = new Uint32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    const ai = a[i - 1];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (ai === b[j - 1] ? 0 : 1);
      const deletion = previous[j]! + 1;
      const insertion = current[j - 1]! + 1;
      current[j] = substitution < deletion ? (substitution < insertion ? substitution : insertion) : deletion < insertion ? deletion : insertion;
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length]!;
}

/**
 * 1 − normalized edit distance of `answer` to `reference`, in [0, 1].
 * Texts too long to compare character by character (more than
 * {@link MAX_CHAR_CELLS} cells) are compared as sequences of words and spaces.
 */
export function editSimilarity(answer: string, reference: string): number {
  let a: string[] = Array.from(answer);
  let b: string[] = Array.from(reference);
  if (a.length * b.length > MAX_CHAR_CELLS) {
    a = answer.split(/(\s+)/).filter(Boolean);
    b = reference.split(/(\s+)/).filter(Boolean);
  }
  const longest = Math.max(a.length, b.length);
  if (longest === 0) return 1;
  return 1 - levenshtein(a, b) / longest;
}
