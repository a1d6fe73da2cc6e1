/**
 * The in-process rate limiter: a sliding-window log per key in a Map, for a
 * proxy running as a single instance. The same algorithm as the Redis Lua
 * script (`redis-scripts.ts`), step for step.
 */
import { promiseOf } from "../async/promise-of.js";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
  checkAcquire,
  checkSettle,
  checkWindowMs,
  DEFAULT_WINDOW_MS,
  toDecision,
  type WindowOutcome,
} from "./decision.js";
import type { AcquireRequest, RateLimitDecision, RateLimiter, SettleRequest } from "./types.js";

/** Options of {@link MemoryRateLimiter}. */
export interface MemoryRateLimiterOptions {
  /** Window length in ms; default 60 000 (per minute). Tests use short windows. */
  windowMs?: number;
  /** Clock in ms; default `performance.now()` (monotonic, so wall-clock jumps do not move the window). */
  now?: () => number;
}

interface Entry {
  id: string;
  at: number;
  tokens: number;
}

interface KeyWindow {
  /** Admitted requests, oldest first. */
  entries: Entry[];
  /** Sum of `entries[].tokens`. */
  tokens: number;
  /** Time of the newest entry holding tokens. */
  lastTokenAt: number;
}

/**
 * Per-key rpm/tpm limits kept in this process's memory (exact sliding
 * window, see `types.ts`). Memory per key is one small record per request
 * admitted in the last window; keys whose window is empty are dropped by a
 * sweep that runs at most once per window, so idle keys are not kept forever.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly windowMs: number;
  private readonly now: () => number;
  private readonly windows = new Map<string, KeyWindow>();
  private lastSweep: number;
  private closed = false;

  constructor(options: MemoryRateLimiterOptions = {}) {
    this.windowMs = checkWindowMs(options.windowMs ?? DEFAULT_WINDOW_MS);
    this.now = options.now ?? (() => performance.now());
    this.lastSweep = this.now();
  }

  /** {@inheritDoc RateLimiter.acquire} */
  acquire(keyId: string, request: AcquireRequest): Promise<RateLimitDecision> {
    return promiseOf(() => this.acquireNow(keyId, request));
  }

  private acquireNow(keyId: string, request: AcquireRequest): RateLimitDecision {
    this.assertOpen();
    const checked = checkAcquire(keyId, request);
    const now = this.now();
    this.sweep(now);
    const window = this.windows.get(keyId) ?? { entries: [], tokens: 0, lastTokenAt: 0 };
    this.prune(window, now);
    const { entries } = window;
    const count = entries.length;
    // window - age (not at + window - now): exact when `at` is now, whatever the float rounding.
    const ageLimit = (at: number): number => this.windowMs - (now - at);

    const requestsRefused = checked.rpm > 0 && count >= checked.rpm;
    const tokensRefused = checked.tpm > 0 && window.tokens + checked.tokens > checked.tpm;
    let requestsWait = 0;
    if (requestsRefused) requestsWait = ageLimit(entries[count - checked.rpm]!.at);
    let tokensWait = 0;
    if (tokensRefused) {
      if (checked.tokens > checked.tpm) {
        tokensWait = window.tokens > 0 ? ageLimit(window.lastTokenAt) : this.windowMs;
      } else {
        let freed = 0;
        for (const entry of entries) {
          freed += entry.tokens;
          if (window.tokens - freed + checked.tokens <= checked.tpm) {
            tokensWait = ageLimit(entry.at);
            break;
          }
        }
      }
    }

    const reservationId = randomUUID();
    const allowed = !requestsRefused && !tokensRefused;
    if (allowed) {
      entries.push({ id: reservationId, at: now, tokens: checked.tokens });
      window.tokens += checked.tokens;
      if (checked.tokens > 0) window.lastTokenAt = now;
      this.windows.set(keyId, window);
    }
    const newest = entries[entries.length - 1];
    const outcome: WindowOutcome = {
      allowed,
      reason: allowed ? null : requestsRefused ? "requests" : "tokens",
      requests: entries.length,
      tokens: window.tokens,
      requestsResetMs: newest === undefined ? 0 : ageLimit(newest.at),
      tokensResetMs: window.tokens > 0 ? ageLimit(window.lastTokenAt) : 0,
      retryAfterMs: Math.max(requestsWait, tokensWait),
    };
    return toDecision(outcome, checked, this.windowMs, reservationId);
  }

  /** {@inheritDoc RateLimiter.settle} */
  settle(keyId: string, request: SettleRequest): Promise<boolean> {
    return promiseOf(() => this.settleNow(keyId, request));
  }

  private settleNow(keyId: string, request: SettleRequest): boolean {
    this.assertOpen();
    checkSettle(keyId, request);
    const window = this.windows.get(keyId);
    if (window === undefined) return false;
    this.prune(window, this.now());
    const entry = findLast(window.entries, request.reservationId);
    if (entry === undefined) return false;
    window.tokens += request.actualTokens - entry.tokens;
    entry.tokens = request.actualTokens;
    if (request.actualTokens > 0) window.lastTokenAt = Math.max(window.lastTokenAt, entry.at);
    return true;
  }

  /** {@inheritDoc RateLimiter.close} */
  close(): Promise<void> {
    this.closed = true;
    this.windows.clear();
    return Promise.resolve();
  }

  /** Number of keys currently holding entries (for tests and metrics). */
  get keyCount(): number {
    return this.windows.size;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("The rate limiter is closed");
  }

  /** Drops the entries that have left the window (age ≥ windowMs). */
  private prune(window: KeyWindow, now: number): void {
    const cutoff = now - this.windowMs;
    let expired = 0;
    while (expired < window.entries.length && window.entries[expired]!.at <= cutoff) {
      window.tokens -= window.entries[expired]!.tokens;
      expired += 1;
    }
    if (expired > 0) window.entries.splice(0, expired);
  }

  /** At most once per window: forgets the keys whose window is empty. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [keyId, window] of this.windows) {
      this.prune(window, now);
      if (window.entries.length === 0) this.windows.delete(keyId);
    }
  }
}

function findLast(entries: readonly Entry[], id: string): Entry | undefined {
  for (let i = entries.length - 1; i >= 0; i -= 1) if (entries[i]!.id === id) return entries[i];
  return undefined;
}
