/**
 * A gpt-tokenizer count in linear time on any input.
 *
 * gpt-tokenizer first cuts text into pieces with o200k's pre-tokenizer regex
 * (a word with its leading space, a run of punctuation, a run of whitespace,
 * up to three digits), then BPE-merges each piece on its own. The merge scans
 * the whole piece once per merge, so it is quadratic in the length of one
 * piece: ordinary text has pieces of a few characters, but a run of one
 * letter, of CJK characters without punctuation, of emoji or of punctuation
 * is a single piece as long as the run (200 KB of `a` took 21 s).
 *
 * Here a piece longer than {@link MAX_PIECE_CHARS} is counted in slices of
 * {@link SLICE_CHARS}, and the text around it as gpt-tokenizer would. Text
 * without such a piece is counted in one call, so its count is exactly
 * gpt-tokenizer's; a long piece's count is within a token or so per slice of
 * the exact count (BPE merges across a slice border are lost). Whether a
 * text may hold a long piece is first decided by one pass over its char
 * codes ({@link mayHoldLongPiece}), so ordinary text pays no second regex pass.
 */
import { gptTokenizer } from "./gpt-tokenizer.js";

/** Longest pre-tokenizer piece (UTF-16 code units) merged whole; longer ones are counted in slices. Ordinary text (words, code, a 100-dash rule) stays far below. */
export const MAX_PIECE_CHARS = 512;
/** Slice length (UTF-16 code units) for a longer piece: merge cost per character grows with it. */
export const SLICE_CHARS = 256;

/**
 * Number of o200k tokens in `text`, in time linear in its length.
 * Equal to gpt-tokenizer's count when no pre-tokenizer piece is longer than
 * {@link MAX_PIECE_CHARS}; close to it otherwise.
 */
export function countPiecewise(text: string): number {
  const tokenizer = gptTokenizer();
  if (text.length <= MAX_PIECE_CHARS || !mayHoldLongPiece(text)) return text.length === 0 ? 0 : tokenizer.count(text);
  let total = 0;
  let from = 0;
  for (const match of text.matchAll(tokenizer.pieces())) {
    const piece = match[0];
    if (piece.length <= MAX_PIECE_CHARS) continue;
    const at = match.index;
    if (at > from) total += tokenizer.count(text.slice(from, at));
    total += countInSlices(piece, (slice) => tokenizer.count(slice));
    from = at + piece.length;
  }
  if (from === 0) return tokenizer.count(text);
  return from < text.length ? total + tokenizer.count(text.slice(from)) : total;
}

/**
 * Runs, in code units, that no piece can be made of without one of them
 * being at least this long: with every run below it, a piece is at most
 * 1 + 254 + 254 < {@link MAX_PIECE_CHARS} long (see {@link mayHoldLongPiece}).
 */
const RUN_LIMIT = 255;

/**
 * False when no pre-tokenizer piece of `text` can be longer than
 * {@link MAX_PIECE_CHARS} (true may be a false alarm). o200k's pieces are: a
 * run of letters and marks with one character before it and a contraction
 * after it; one optional space, a run of characters that are neither
 * whitespace, letters nor digits, and a run of `\r`, `\n` and `/` after it;
 * a run of whitespace; up to three digits. So a long piece needs a long run
 * of ASCII characters that are not digits nor whitespace (`x`), of ASCII
 * whitespace (`w`), or of `\r`, `\n`, `/` (`t`). Any non-ASCII character
 * counts towards all three runs (it may be a letter, a mark, a symbol or a
 * space), so the check never misses one. One pass over the char codes.
 */
export function mayHoldLongPiece(text: string): boolean {
  let x = 0;
  let w = 0;
  let t = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) {
      x++;
      w++;
      t++;
    } else if (c >= 0x30 && c <= 0x39) {
      x = w = t = 0;
    } else if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) {
      w++;
      x = 0;
      t = c === 0x0a || c === 0x0d ? t + 1 : 0;
    } else {
      x++;
      w = 0;
      t = c === 0x2f ? t + 1 : 0;
    }
    if (x >= RUN_LIMIT || w >= RUN_LIMIT || t >= RUN_LIMIT) return true;
  }
  return false;
}

/** The tokens of one long piece, {@link SLICE_CHARS} at a time, never cutting a surrogate pair. */
function countInSlices(piece: string, count: (text: string) => number): number {
  let total = 0;
  for (let start = 0; start < piece.length;) {
    let end = Math.min(piece.length, start + SLICE_CHARS);
    if (end < piece.length && isHighSurrogate(piece.charCodeAt(end - 1))) end++;
    total += count(piece.slice(start, end));
    start = end;
  }
  return total;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
