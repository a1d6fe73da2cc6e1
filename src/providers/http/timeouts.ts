/**
 * A deployment's four timeouts, as every HTTP provider applies them:
 * connect (TCP/TLS), first token (until the response headers / first
 * byte), idle (between two chunks of the body) and total (the whole call).
 */
import { errors } from "../../protocol/error-codes.js";
import type { Deployment } from "../../config/schema.js";
import { RelayError } from "../../protocol/errors.js";

/** Timeouts of one deployment, in ms. */
export interface DeploymentTimeouts {
  /** undici `connect.timeout`. */
  connectMs: number;
  /** undici `headersTimeout`. */
  firstTokenMs: number;
  /** undici `bodyTimeout`. */
  idleMs: number;
  /** The whole upstream call, or null for no limit. */
  totalMs: number | null;
}

/** Reads the timeouts of `deployment` (`first_token_timeout_ms` and `idle_timeout_ms` default to `timeout_ms`). */
export function deploymentTimeouts(deployment: Deployment): DeploymentTimeouts {
  return {
    connectMs: deployment.connect_timeout_ms,
    firstTokenMs: deployment.first_token_timeout_ms ?? deployment.timeout_ms,
    idleMs: deployment.idle_timeout_ms ?? deployment.timeout_ms,
    totalMs: deployment.total_timeout_ms ?? null,
  };
}

/** The reason a total timeout aborts with; {@link isTotalTimeout} recognises it. */
class TotalTimeout extends Error {
  constructor(readonly ms: number) {
    super(`total timeout of ${ms} ms`);
    this.name = "TotalTimeout";
  }
}

/** Clears the timer of a signal made by {@link withTotalTimeout}. */
const releases = new WeakMap<AbortSignal, () => void>();

/**
 * The signal to pass to the upstream request: `signal` (client gone, server
 * stopping), plus the total timeout when there is one. Call
 * {@link releaseTotalTimeout} once the call has ended, so the timer and the
 * listener on `signal` do not outlive it.
 */
export function withTotalTimeout(signal: AbortSignal, totalMs: number | null): AbortSignal {
  if (totalMs === null) return signal;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TotalTimeout(totalMs)), totalMs);
  timer.unref();
  const forward = () => controller.abort(signal.reason);
  const release = () => {
    clearTimeout(timer);
    signal.removeEventListener("abort", forward);
  };
  if (signal.aborted) forward();
  else signal.addEventListener("abort", forward, { once: true });
  controller.signal.addEventListener("abort", release, { once: true });
  releases.set(controller.signal, release);
  return controller.signal;
}

/** Ends the total timeout of a signal from {@link withTotalTimeout} (no-op for any other signal). */
export function releaseTotalTimeout(signal: AbortSignal): void {
  releases.get(signal)?.();
}

/** True when `signal` was aborted by {@link withTotalTimeout}'s timer (not by the client or a stop). */
export function isTotalTimeout(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof TotalTimeout;
}

/**
 * 504 `upstream_timeout` for a call that ran past its total timeout.
 * @param target a short name of the upstream (origin)
 */
export function totalTimeoutError(target: string, totalMs: number): RelayError {
  return errors.upstreamTimeout(`The upstream ${target} did not finish within the total timeout of ${totalMs} ms`);
}

/**
 * Runs a call's stream under its total timeout: `run` gets the signal to
 * use, and the timer is released when the stream ends (or is abandoned).
 * Without a total timeout the stream is returned as is (no extra hop per
 * chunk on the hot path).
 */
export function streamWithTotalTimeout<T>(
  signal: AbortSignal,
  totalMs: number | null,
  run: (signal: AbortSignal) => AsyncIterable<T>,
): AsyncIterable<T> {
  if (totalMs === null) return run(signal);
  const timed = withTotalTimeout(signal, totalMs);
  return (async function* released() {
    try {
      yield* run(timed);
    } finally {
      releaseTotalTimeout(timed);
    }
  })();
}
