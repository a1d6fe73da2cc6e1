/**
 * Helpers of `Idempotency-Key` handling shared by both stores: the request
 * fingerprint, the default windows, and the times a `begin` sets.
 */
import { createHash } from "node:crypto";
import { instantMs } from "./instants.js";
import type { BeginOptions } from "./types.js";

/** How long an answer is kept for replays by default: 24 h, in ms. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** How long an `in_progress` record blocks retries by default: 10 min, in ms. */
export const DEFAULT_IDEMPOTENCY_LOCK_MS = 10 * 60 * 1000;

/**
 * The fingerprint of a request: `sha256:` + hex SHA-256 of
 * `METHOD path\n` followed by the raw body bytes. A retry must send the same
 * bytes (clients retry with the body they sent); a different body under the
 * same key is a conflict.
 * @param method HTTP method (case-insensitive)
 * @param path the URL path (without the query string)
 * @param body the raw request body
 */
export function requestFingerprint(method: string, path: string, body: string | Uint8Array): string {
  return `sha256:${createHash("sha256").update(`${method.toUpperCase()} ${path}\n`).update(body).digest("hex")}`;
}

/** The times of a `begin`: now, when the lock of an in-progress record ends, and when the record expires (all ms). */
export function beginTimes(options: BeginOptions = {}): { now: number; lockedUntil: number; expiresAt: number } {
  const now = options.now === undefined ? Date.now() : instantMs(options.now);
  const ttlMs = options.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
  const lockMs = Math.min(options.lockMs ?? DEFAULT_IDEMPOTENCY_LOCK_MS, ttlMs);
  return { now, lockedUntil: now + lockMs, expiresAt: now + ttlMs };
}
