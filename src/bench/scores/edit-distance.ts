/**
 * Similarity of an answer to its reference by normalized edit distance:
 * 1 − Levenshtein(a, b) / max(|a|, |b|), over Unicode code points
 * (1 = identical, 0 = nothing in common; two empty texts are identical).
 */
import { setImmediate as nextTurn } from "node:timers/promises";

/** Above this many cell updates (|a| × |b|), texts are compared word by word instead of character by character. */
export const MAX_CHAR_CELLS = 400_000_000;

/**
 * Cell updates between two yields of {@link editSimilarityYielding} to the event loop: a few ms
 * of work, so that streams in flight next to a scoring (a bench's other calls) are read on time.
 */
export const CELLS_PER_SLICE = 2_000_000;

/** The Levenshtein matrix of two sequences, filled row by row in O(min(|a|, |b|)) memory. */
class LevenshteinRows<T> {
  private readonly a: readonly T[];
  private readonly b: readonly T[];
  private previous: Uint32Array;
  private current: Uint32Array;
  private row = 0;

  constructor(a: readonly T[], b: readonly T[]) {
    [this.a, this.b] = a.length < b.length ? [b, a] : [a, b];
    this.previous = new Uint32Array(this.b.length + 1);
    this.current = new Uint32Array(this.b.length + 1);
    for (let j = 0; j <= this.b.length; j++) this.previous[j] = j;
  }

  /** Cells per row (the shorter sequence's length, at least 1). */
  get width(): number {
    return Math.max(1, this.b.length);
  }

  get done(): boolean {
    return this.row >= this.a.length || this.b.length === 0;
  }

  /** The distance, once {@link done}. */
  get distance(): number {
    return this.b.length === 0 ? this.a.length : this.previous[this.b.length]!;
  }

  /** Fills up to `rows` more rows. */
  advance(rows: number): void {
    const { a, b } = this;
    const end = Math.min(a.length, this.row + rows);
    let previous = this.previous;
    let current = this.current;
    for (let i = this.row + 1; i <= end; i++) {
      current[0] = i;
      const ai = a[i - 1];
      for (let j = 1; j <= b.length; j++) {
        const substitution = previous[j - 1]! + (ai === b[j - 1] ? 0 : 1);
        const deletion = previous[j]! + 1;
        const insertion = current[j - 1]! + 1;
        current[j] =
          substitution < deletion
            ? substitution < insertion
              ? substitution
              : insertion
            : deletion < insertion
              ? deletion
              : insertion;
      }
      [previous, current] = [current, previous];
    }
    this.previous = previous;
    this.current = current;
    this.row = Math.max(this.row, end);
  }
}

/**
 * Levenshtein distance between two sequences (insertions, deletions and
 * substitutions cost 1), in O(|a|·|b|) time and O(min) memory.
 */
export function levenshtein<T>(a: readonly T[], b: readonly T[]): number {
  const rows = new LevenshteinRows(a, b);
  rows.advance(Number.POSITIVE_INFINITY);
  return rows.distance;
}

/** The sequences compared: code points, or words and spaces for texts too long for that. */
function sequences(answer: string, reference: string): [string[], string[]] {
  const a = Array.from(answer);
  const b = Array.from(reference);
  if (a.length * b.length <= MAX_CHAR_CELLS) return [a, b];
  return [answer.split(/(\s+)/).filter(Boolean), reference.split(/(\s+)/).filter(Boolean)];
}

/**
 * 1 − normalized edit distance of `answer` to `reference`, in [0, 1].
 * Texts too long to compare character by character (more than
 * {@link MAX_CHAR_CELLS} cells) are compared as sequences of words and spaces.
 */
export function editSimilarity(answer: string, reference: string): number {
  const [a, b] = sequences(answer, reference);
  const longest = Math.max(a.length, b.length);
  return longest === 0 ? 1 : 1 - levenshtein(a, b) / longest;
}

/**
 * {@link editSimilarity}, yielding to the event loop every {@link CELLS_PER_SLICE} cells: the
 * form the bench runner uses while other calls stream (a long answer costs up to seconds of work).
 */
export async function editSimilarityYielding(
  answer: string,
  reference: string,
  cellsPerSlice = CELLS_PER_SLICE,
): Promise<number> {
  const [a, b] = sequences(answer, reference);
  const longest = Math.max(a.length, b.length);
  if (longest === 0) return 1;
  const rows = new LevenshteinRows(a, b);
  const rowsPerSlice = Math.max(1, Math.floor(cellsPerSlice / rows.width));
  for (;;) {
    rows.advance(rowsPerSlice);
    if (rows.done) break;
    await nextTurn();
  }
  return 1 - rows.distance / longest;
}
