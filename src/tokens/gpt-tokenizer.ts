/**
 * gpt-tokenizer (o200k_base, GPT-4o's encoding), loaded on first use: its
 * tables cost about 70 MB of memory, so a proxy whose upstreams report usage
 * never loads them (and the recorder's worker thread loads them only to
 * estimate). Also hands out the encoding's own pre-tokenizer regex, so the
 * pieces we look at are the pieces it encodes.
 */
import { createRequire } from "node:module";

type CountTokens = (text: string, options: { disallowedSpecial: Set<string> }) => number;

interface Tokenizer {
  /** Plain gpt-tokenizer count of `text` (special-token text counted as plain text). Quadratic in the length of one pre-tokenizer piece. */
  count(text: string): number;
  /** A fresh copy of o200k's pre-tokenizer regex (flags `gu`): each match is one piece the BPE merge encodes on its own. */
  pieces(): RegExp;
}

/** Special-token text (`<|endoftext|>`, a ChatML prompt's `<|im_start|>`) is counted as plain text; gpt-tokenizer would otherwise throw on it. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

let loaded: Tokenizer | null = null;

/** The tokenizer, loading it on the first call. */
export function gptTokenizer(): Tokenizer {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const { countTokens } = require("gpt-tokenizer") as { countTokens: CountTokens };
  const { O200K_TOKEN_SPLIT_REGEX } = require("gpt-tokenizer/encodingParams/constants") as {
    O200K_TOKEN_SPLIT_REGEX: RegExp;
  };
  loaded = {
    count: (text) => countTokens(text, PLAIN_TEXT),
    pieces: () => new RegExp(O200K_TOKEN_SPLIT_REGEX.source, O200K_TOKEN_SPLIT_REGEX.flags),
  };
  return loaded;
}
