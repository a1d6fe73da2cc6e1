/**
 * The reduced form of an exchange that cannot be handed on or written as
 * it is (nested deeper than a structured clone or `JSON.stringify` can go,
 * or holding values neither can take): the same ids, times, model,
 * status, error, usage, billing and attempts, every nested value cut at
 * {@link REDUCED_MAX_DEPTH} levels, and the request body kept as text
 * (secrets removed, at most {@link REDUCED_BODY_MAX_CHARS} characters) under
 * `llm_relay_reduced` of `prompt_json`. Recording it keeps the exchange
 * visible (and billed) instead of losing it.
 */
import { redactSecrets } from "./redact.js";
import type { ExchangeRecord, PendingExchange } from "./types.js";

/** Levels of nesting a reduced record keeps; a deeper value becomes the string `"[nested too deep]"`. */
export const REDUCED_MAX_DEPTH = 64;
/** Most characters of the request body's text a reduced record keeps. */
export const REDUCED_BODY_MAX_CHARS = 64 * 1024;
const TOO_DEEP = "[nested too deep]";

/** What a reduced record's `requestBody` holds besides `model`. */
export interface ReducedBody {
  /** Why the exchange was reduced. */
  reason: string;
  /** The request body as JSON text (depth-limited, secrets removed), cut to {@link REDUCED_BODY_MAX_CHARS}. */
  body: string;
  /** True when `body` was cut. */
  truncated: boolean;
}

/**
 * A JSON-safe copy of `value` no deeper than `maxDepth` levels: deeper values become
 * `"[nested too deep]"`, a bigint its decimal text, a non-finite number null, functions and
 * symbols are left out (as `JSON.stringify` does), `toJSON` is honoured. Never throws; the
 * result can be structured-cloned and stringified.
 */
export function boundedCopy(value: unknown, maxDepth = REDUCED_MAX_DEPTH): unknown {
  return copy(value, 0, maxDepth);
}

function copy(value: unknown, depth: number, maxDepth: number): unknown {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "bigint") return value.toString();
  if (typeof value !== "object") return undefined;
  if (depth >= maxDepth) return TOO_DEEP;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") {
    try {
      return copy(toJSON.call(value), depth, maxDepth);
    } catch {
      return null;
    }
  }
  if (Array.isArray(value)) return value.map((item) => copy(item, depth + 1, maxDepth) ?? null);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = copy((value as Record<string, unknown>)[key], depth + 1, maxDepth);
    if (item !== undefined) out[key] = item;
  }
  return out;
}

/**
 * The reduced form of `exchange` (a pending exchange stays pending, a record stays a record).
 * @param reason why, kept in `requestBody.llm_relay_reduced.reason` (e.g. the clone error)
 */
export function reducedExchange<T extends PendingExchange | ExchangeRecord>(exchange: T, reason: string): T {
  const text = JSON.stringify(redactSecrets(boundedCopy(exchange.requestBody))) ?? "null";
  const truncated = text.length > REDUCED_BODY_MAX_CHARS;
  const reduced: ReducedBody = { reason, body: truncated ? text.slice(0, REDUCED_BODY_MAX_CHARS) : text, truncated };
  const rest = boundedCopy({ ...exchange, requestBody: null }) as T;
  return { ...rest, requestBody: { model: exchange.requestedModel, llm_relay_reduced: reduced } };
}
