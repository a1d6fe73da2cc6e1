/**
 * API key secrets: generation, the stored hash, the visible prefix, and the
 * constant-time comparison. Shared by both stores.
 *
 * Why SHA-256 and not a slow hash (scrypt, bcrypt): slow hashes protect
 * *low-entropy* secrets (passwords) from guessing after a database leak. A
 * key here is 40 random base62 characters (≈ 238 bits), so guessing a
 * preimage of a leaked SHA-256 is as hopeless as guessing the key itself,
 * while a slow hash would cost tens of ms of CPU on every request. GitHub
 * tokens and Stripe keys are stored the same way.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { newUlid } from "../recording/ulid.js";
import { TenancyInputError } from "./store.js";
import type { ApiKey, NewApiKey } from "./types.js";

/** Every key starts with this. */
export const KEY_PREFIX = "lr-";
/** Random characters after `lr-`. */
export const KEY_SECRET_LENGTH = 40;
/** Characters of the secret shown in the visible prefix (so the prefix is `lr-` + 8). */
export const VISIBLE_CHARS = 8;

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const KEY_PATTERN = new RegExp(`^${KEY_PREFIX}[0-9A-Za-z]{${KEY_SECRET_LENGTH}}$`);

/** A fresh plaintext key: `lr-` + 40 uniformly random base62 characters (rejection sampling, no modulo bias). */
export function generateKeyPlaintext(): string {
  let out = KEY_PREFIX;
  while (out.length < KEY_PREFIX.length + KEY_SECRET_LENGTH) {
    for (const byte of randomBytes(64)) {
      // 248 = 4 · 62: bytes at or above it would favour the first characters.
      if (byte < 248 && out.length < KEY_PREFIX.length + KEY_SECRET_LENGTH) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

/** A new key id: `key_<lowercase ulid>`. */
export function newKeyId(): string {
  return `key_${newUlid()}`;
}

/** Whether `text` has the shape of a key (checked before any database lookup). */
export function isKeyShaped(text: string): boolean {
  return KEY_PATTERN.test(text);
}

/** The visible prefix of a key: `lr-` and its first 8 secret characters. */
export function visiblePrefix(plaintext: string): string {
  return plaintext.slice(0, KEY_PREFIX.length + VISIBLE_CHARS);
}

/** The stored hash of a key: SHA-256 of its UTF-8 text, as 64 lowercase hex digits. */
export function hashKey(plaintext: string): string {
  return createHash("sha256").update(plaintext, "utf8").digest("hex");
}

/**
 * Whether `plaintext` hashes to `storedHash`, compared with
 * `crypto.timingSafeEqual` (the time does not depend on where they differ).
 */
export function hashMatches(plaintext: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, "hex");
  const actual = Buffer.from(hashKey(plaintext), "hex");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * Of the rows sharing a key's prefix, the one whose hash matches. Every
 * candidate is compared (no early exit), so the time depends only on how
 * many share the prefix.
 */
export function matchKey<T extends { keyHash: string }>(plaintext: string, candidates: readonly T[]): T | null {
  let found: T | null = null;
  for (const candidate of candidates) {
    if (hashMatches(plaintext, candidate.keyHash) && found === null) found = candidate;
  }
  return found;
}

/** A new key's limits, checked: null for each limit not given. */
export type CheckedNewKey = Omit<ApiKey, "id" | "prefix" | "createdAt" | "revokedAt">;

/**
 * Validates the limits of a new key.
 * @throws TenancyInputError naming the bad field (empty tenant, negative or non-finite budget,
 *   non-positive period, rpm or tpm not a positive integer, empty model list)
 */
export function checkNewKey(input: NewApiKey): CheckedNewKey {
  const tenant = input.tenant.trim();
  if (tenant === "") throw new TenancyInputError("tenant: must not be empty");
  const budgetUsd = input.budgetUsd ?? null;
  if (budgetUsd !== null && !(Number.isFinite(budgetUsd) && budgetUsd >= 0))
    throw new TenancyInputError(`budgetUsd: expected a number ≥ 0, got ${budgetUsd}`);
  const budgetPeriodMs = input.budgetPeriodMs ?? null;
  if (budgetPeriodMs !== null && !(Number.isSafeInteger(budgetPeriodMs) && budgetPeriodMs > 0)) {
    throw new TenancyInputError(`budgetPeriodMs: expected a positive integer (ms), got ${budgetPeriodMs}`);
  }
  const positiveInt = (name: string, value: number | null | undefined): number | null => {
    if (value === null || value === undefined) return null;
    if (!(Number.isSafeInteger(value) && value > 0))
      throw new TenancyInputError(`${name}: expected a positive integer, got ${value}`);
    return value;
  };
  const models = input.models ?? null;
  if (models !== null && (models.length === 0 || models.some((m) => m.trim() === "")))
    throw new TenancyInputError("models: expected one or more model names");
  return {
    tenant,
    budgetUsd,
    budgetPeriodMs,
    rpm: positiveInt("rpm", input.rpm),
    tpm: positiveInt("tpm", input.tpm),
    models: models === null ? null : models.map((m) => m.trim()),
  };
}
