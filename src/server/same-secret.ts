/** Constant-time comparison of secrets (the master key), shared by the internal endpoints and the browser's login. */
import { createHash, timingSafeEqual } from "node:crypto";

/** Whether `a` and `b` are the same secret, compared in constant time (their SHA-256, so lengths do not leak). */
export function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}
