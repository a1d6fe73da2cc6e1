/**
 * The nesting depth of a JSON text, found by one linear scan before it is
 * parsed: `JSON.parse` itself copes with deep nesting, but everything that
 * walks the parsed value recursively afterwards (`JSON.stringify` on the way
 * upstream, the recorder, zod) overflows the stack at a few thousand levels,
 * and a 10 KB body can nest 5,000 deep. Refusing such a body up front keeps
 * every later step within bounds.
 */
import { invalidRequest, type RelayError } from "../protocol/errors.js";

/** Default of `max_json_depth`: how many levels of `[`/`{` a request body may nest. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const OPEN_BRACE = 0x7b; // {
const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACE = 0x7d; // }
const CLOSE_BRACKET = 0x5d; // ]

/**
 * Whether `text` nests arrays/objects deeper than `maxDepth` levels
 * (`{}` is 1, `{"a":[1]}` is 2). Brackets inside strings do not count;
 * the text need not be valid JSON (an invalid one is left to the parser).
 * One pass over the text (strings skipped with `indexOf`), no allocation; stops at the first level too deep.
 * @param maxDepth the deepest nesting allowed, in levels (≥ 1)
 */
export function jsonNestingExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i);
      if (i < 0) return false;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** Index of the quote that ends the string opened at `open`, or -1 when it never ends (found with `indexOf`, so long strings cost little). */
function closingQuote(text: string, open: number): number {
  for (let quote = text.indexOf('"', open + 1); quote >= 0; quote = text.indexOf('"', quote + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
  return -1;
}

/**
 * The 400 for a body nested deeper than the limit.
 * @returns RelayError 400 `invalid_request_error`, code `json_too_deep`; its message names the limit
 */
export function jsonTooDeep(maxDepth: number): RelayError {
  return invalidRequest(
    `The JSON body is nested more than ${maxDepth} levels deep (the limit of this llm-relay, max_json_depth); flatten the request.`,
    null,
    "json_too_deep",
  );
}
