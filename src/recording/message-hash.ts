/**
 * The content hash `llm` 0.32 gives a message in its message store
 * (`messages.hash`), and a JSON serializer that writes what Python's
 * `json.dumps` writes. See docs/llm-logs-db.md ("Message hash").
 *
 * A message's hash covers its role, its parts and its parent's hash, so
 * the same text after a different parent is a different message.
 */
import { blake2b } from "@noble/hashes/blake2b";
import { bytesToHex } from "@noble/hashes/utils";
import type { LlmMessage } from "./llm-message.js";

/** The algorithm tag llm puts in front of every message hash. */
export const HASH_PREFIX = "b2:";

/** Options of {@link pythonJson}, named after Python's `json.dumps` arguments. */
export interface PythonJsonOptions {
  /** Sort object keys (by code point, as Python does). */
  sortKeys: boolean;
  /** Escape every non-ASCII character as `\uXXXX` (Python's default). */
  ensureAscii: boolean;
  /** `true`: separators `,` and `:`; `false`: Python's default `, ` and `: `. */
  compact: boolean;
}

/** Compares two strings by Unicode code point, like Python's `str` ordering. */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done) return cb.done ? 0 : -1;
    if (cb.done) return 1;
    const da = ca.value.codePointAt(0) ?? 0;
    const db = cb.value.codePointAt(0) ?? 0;
    if (da !== db) return da < db ? -1 : 1;
  }
}

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 or from 1e16. */
export function pythonFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "Infinity";
  if (n === -Infinity) return "-Infinity";
  // toExponential() with no argument gives the shortest digits that round-trip.
  const [mantissa = "0", expText = "0"] = n.toExponential().split("e");
  const exp = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  let out: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    out = `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  } else if (exp < 0) {
    out = `0.${"0".repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    out = `${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
  } else {
    out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return negative ? `-${out}` : out;
}

/**
 * A number as Python would print it. JSON numbers parsed in JS lose the
 * int/float distinction, so integral values are written as Python ints
 * (`1`, never `1.0`) and the rest as Python floats (`1e-05`, `0.5`).
 */
function pythonNumber(n: number): string {
  if (Number.isInteger(n)) return BigInt(n).toString();
  return pythonFloat(n);
}

/** A string literal as Python's `json.dumps` writes it. */
function pythonString(s: string, ensureAscii: boolean): string {
  // JSON.stringify escapes exactly what Python escapes with
  // ensure_ascii=False: `"` `\` the short escapes \b \f \n \r \t, other
  // controls below 0x20 as lowercase \u00xx; U+2028/U+2029 and DEL stay
  // raw. (Lone surrogates become \udxxx; Python could not encode those
  // to UTF-8 at all.)
  const json = JSON.stringify(s);
  if (!ensureAscii) return json;
  let out = "";
  for (let i = 0; i < json.length; i++) {
    const code = json.charCodeAt(i);
    out += code < 0x7f ? json[i] : `\\u${code.toString(16).padStart(4, "0")}`;
  }
  return out;
}

/**
 * Serializes `value` as Python's `json.dumps(value, sort_keys=…,
 * ensure_ascii=…, separators=…)` would. Object keys whose value is
 * `undefined` are left out (as `JSON.stringify` does); `undefined` in an
 * array is written as `null`.
 * @throws TypeError for values JSON cannot hold (functions, symbols, bigint) or cycles.
 */
export function pythonJson(value: unknown, options: PythonJsonOptions): string {
  const itemSep = options.compact ? "," : ", ";
  const keySep = options.compact ? ":" : ": ";
  const seen = new Set<object>();
  const write = (v: unknown): string => {
    if (v === null || v === undefined) return "null";
    if (typeof v === "string") return pythonString(v, options.ensureAscii);
    if (typeof v === "number") return pythonNumber(v);
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v !== "object") throw new TypeError(`cannot serialize a ${typeof v} as JSON`);
    const maybeToJson = (v as { toJSON?: unknown }).toJSON;
    if (typeof maybeToJson === "function") return write((maybeToJson as () => unknown).call(v));
    if (seen.has(v)) throw new TypeError("cannot serialize a cyclic structure as JSON");
    seen.add(v);
    let out: string;
    if (Array.isArray(v)) {
      out = `[${v.map((item) => write(item)).join(itemSep)}]`;
    } else {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
      if (options.sortKeys) entries.sort(([a], [b]) => compareCodePoints(a, b));
      out = `{${entries.map(([k, x]) => `${pythonString(k, options.ensureAscii)}${keySep}${write(x)}`).join(itemSep)}}`;
    }
    seen.delete(v);
    return out;
  };
  return write(value);
}

/**
 * llm's canonical JSON (`canonical_json` in llm/logs.py): keys sorted
 * recursively, separators `,` and `:`, non-ASCII left unescaped.
 * @throws TypeError for values JSON cannot hold.
 */
export function llmCanonicalJson(value: unknown): string {
  return pythonJson(value, { sortKeys: true, ensureAscii: false, compact: true });
}

/**
 * Python's plain `json.dumps(value)` (ASCII-escaped, `, ` and `: `,
 * keys in insertion order): how llm writes `parts.payload`.
 */
export function pythonJsonDumps(value: unknown): string {
  return pythonJson(value, { sortKeys: false, ensureAscii: true, compact: false });
}

/**
 * The message-store hash of `message` when it follows `parentHash`:
 * `"b2:"` + hex BLAKE2b (16-byte digest) of the UTF-8 canonical JSON of
 * `{"message": {"role", "parts"}, "parent": parentHash}`.
 * @param message the message (role and parts as llm's `Message.to_dict()` gives them)
 * @param parentHash the hash of the previous message in the chain, or null for the first
 * @returns e.g. `b2:e08f6951c793620eb0821c588af0cd07`
 */
export function messageHash(message: LlmMessage, parentHash: string | null): string {
  const canonical = llmCanonicalJson({
    message: { role: message.role, parts: message.parts },
    parent: parentHash,
  });
  const digest = blake2b(utf8.encode(canonical), { dkLen: 16 });
  return HASH_PREFIX + bytesToHex(digest);
}

const utf8 = new TextEncoder();

/**
 * A string that determines the canonical JSON of `message`. Text-only
 * messages (the usual case) use the native `JSON.stringify` of role and
 * texts, which is injective on strings; messages with tool parts use the
 * canonical JSON itself, since `JSON.stringify` writes `NaN`, `Infinity`
 * and `null` alike.
 */
function cacheKey(message: LlmMessage): string {
  const texts: string[] = [message.role];
  for (const part of message.parts) {
    if (part.type !== "text") return llmCanonicalJson({ role: message.role, parts: message.parts });
    texts.push(part.text);
  }
  return JSON.stringify(texts);
}

/** Limits of a {@link MessageHashCache}. */
export interface MessageHashCacheOptions {
  /** Most entries kept (default 50,000). */
  maxEntries?: number;
  /** Most key characters kept, summed over entries (default 32 M, i.e. at most 64 MB of keys). */
  maxChars?: number;
}

/** A cached message hash. */
export interface CachedHash {
  /** The message hash. */
  readonly hash: string;
  /**
   * Whether the message row is known to be in the store's file. Set by the
   * store once the transaction that wrote (or found) the row has committed;
   * an evicted entry simply starts over as not stored.
   */
  stored: boolean;
}

/**
 * A bounded LRU cache of {@link messageHash} results, keyed by the parent
 * hash and the message (see `cacheKey`: equal keys mean equal canonical
 * JSON, hence equal hashes). A client that re-sends its history costs one
 * native `JSON.stringify` and one map lookup per known message instead of
 * canonical JSON plus BLAKE2b.
 *
 * Each entry also carries a `stored` flag that a store may set once the
 * message row is committed to its file (one cache per store and file).
 */
export class MessageHashCache {
  private readonly entries = new Map<string, CachedHash>();
  private chars = 0;
  private readonly maxEntries: number;
  private readonly maxChars: number;

  constructor(options: MessageHashCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 50_000;
    this.maxChars = options.maxChars ?? 32_000_000;
  }

  /** Entries held now. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached hash of `message` after `parentHash` (computed and cached
   * on a miss). The entry is live: set its `stored` flag to record that
   * the row is in the file.
   */
  lookup(message: LlmMessage, parentHash: string | null): CachedHash {
    const key = (parentHash ?? "") + cacheKey(message);
    const hit = this.entries.get(key);
    if (hit) {
      // Refresh: most recently used last.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const entry: CachedHash = { hash: messageHash(message, parentHash), stored: false };
    this.entries.set(key, entry);
    this.chars += key.length;
    this.evict();
    return entry;
  }

  private evict(): void {
    while (this.entries.size > this.maxEntries || (this.chars > this.maxChars && this.entries.size > 1)) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.chars -= oldest.length;
    }
  }
}
