/**
 * Which upstream failures are worth another attempt, and how long to wait
 * before it: exponential backoff with full jitter (AWS Architecture Blog,
 * "Exponential Backoff And Jitter"), replaced by the upstream's
 * `Retry-After` (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) when it
 * is short enough.
 */
import type { RoutingSettings } from "../config/schema.js";
import { RelayError } from "../protocol/errors.js";

/**
 * What a failed attempt leads to:
 * - `retry`: 429, any 5xx (529 included), a timeout (504) or a connection
 *   error (502): another attempt, on this model or a fallback;
 * - `context_window`: 400 `context_length_exceeded` (from the upstream or a
 *   provider's own pre-check): the model's `context_window_fallbacks`;
 * - `final`: any other 4xx: the client's own error, answered as is.
 */
export type FailureKind = "retry" | "context_window" | "final";

/** Classifies a failed attempt (see {@link FailureKind}). */
export function classifyFailure(error: RelayError): FailureKind {
  if (error.code === "context_length_exceeded") return "context_window";
  if (error.status === 429 || error.status >= 500) return "retry";
  return "final";
}

/**
 * The `status` of an attempt record for a failure: `timeout`,
 * `unreachable`, or `error` (an HTTP error or a protocol violation).
 */
export function attemptStatus(error: RelayError): "timeout" | "unreachable" | "error" {
  if (error.errorClass === "upstream_timeout") return "timeout";
  if (error.errorClass === "upstream_unreachable") return "unreachable";
  return "error";
}

/** The HTTP status the upstream answered with, or null when it sent none (timeout, connection error, our own check). */
export function upstreamHttpStatus(error: RelayError): number | null {
  return error.errorClass === "upstream_http" ? error.status : null;
}

/**
 * The wait a `Retry-After` value asks for, in ms.
 * @param value the header: delay-seconds (`"7"`, decimals tolerated) or an HTTP-date
 * @param nowMs the current time, ms since the epoch (for an HTTP-date)
 * @returns the wait (0 for a date in the past), or null when the header is absent or unreadable
 */
export function retryAfterMs(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (text === "") return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!/^[A-Za-z]{3},? /.test(text)) return null; // an HTTP-date starts with the day name
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - nowMs);
}

/** The `Retry-After` wait of a failed attempt (from the upstream's header, passed on by the provider), in ms, or null. */
export function retryAfterOf(error: RelayError, nowMs: number): number | null {
  return retryAfterMs(error.headers["retry-after"], nowMs);
}

/**
 * The backoff before retry number `retry` (0 for the first retry), in ms:
 * a uniformly random wait in `[0, min(retry_max_ms, retry_base_ms · 2^retry))`
 * ("full jitter").
 * @param random a source of uniform numbers in [0, 1)
 */
export function backoffMs(
  retry: number,
  settings: Pick<RoutingSettings, "retry_base_ms" | "retry_max_ms">,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(settings.retry_max_ms, settings.retry_base_ms * 2 ** Math.min(retry, 30));
  return Math.floor(random() * ceiling);
}

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as it
 * is aborted (a client that left, a server stopping).
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
