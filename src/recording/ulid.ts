/**
 * Lowercase ULIDs, as `llm` writes them (python-ulid, lowercased), for
 * `responses.id`, `turns.id` and `conversations.id`/`threads.id`.
 * The time part is the given time in ms; ids made within one process
 * are strictly increasing, because `llm logs` orders by id.
 */
import { randomFillSync } from "node:crypto";
import { monotonicFactory, ulid } from "ulid";

/**
 * ulid's default PRNG asks the OS for one byte per character (16 calls per
 * id, 3 % of the proxy's CPU in a profile); this one draws the same
 * cryptographic bytes from a pool refilled 4 KiB at a time.
 */
const pool = new Uint8Array(4096);
let position = pool.length;
function pooledRandom(): number {
  if (position >= pool.length) {
    randomFillSync(pool);
    position = 0;
  }
  return pool[position++]! / 256;
}

const next = monotonicFactory(pooledRandom);

/**
 * A new lowercase 26-character ULID whose time part is `timeMs`.
 * @param timeMs ms since the epoch (default: now)
 */
export function newUlid(timeMs: number = Date.now()): string {
  return next(timeMs).toLowerCase();
}

/**
 * A lowercase ULID whose time part is `timeMs`, with random bits from the
 * same pool but outside the monotonic sequence of {@link newUlid} (for ids
 * that must sort before one already made, such as history rows).
 * @param timeMs ms since the epoch
 */
export function ulidAt(timeMs: number): string {
  return ulid(timeMs, pooledRandom).toLowerCase();
}
