/**
 * Which failures are retried, how `Retry-After` is read (RFC 9110
 * §10.2.3: delay-seconds or an HTTP-date), and the bounds of the
 * full-jitter backoff.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_ROUTING } from "../../src/config/schema.js";
import { RelayError } from "../../src/protocol/errors.js";
import { mapTransportError, upstreamHttpError } from "../../src/protocol/upstream-errors.js";
import { contextLengthExceeded } from "../../src/providers/raw/context-window.js";
import { totalTimeoutError } from "../../src/providers/http/timeouts.js";
import {
  attemptStatus,
  backoffMs,
  classifyFailure,
  retryAfterMs,
  retryAfterOf,
  sleep,
  upstreamHttpStatus,
} from "../../src/routing/retry-policy.js";

describe("classifyFailure", () => {
  it("retries 429, every 5xx (529 included), timeouts and connection errors", () => {
    for (const status of [429, 500, 502, 503, 504, 529])
      expect(classifyFailure(upstreamHttpError(status, "{}")), String(status)).toBe("retry");
    expect(
      classifyFailure(
        mapTransportError(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }), "http://x", 1000),
      ),
    ).toBe("retry");
    expect(
      classifyFailure(
        mapTransportError(Object.assign(new Error("slow"), { code: "UND_ERR_HEADERS_TIMEOUT" }), "http://x", 1000),
      ),
    ).toBe("retry");
    expect(classifyFailure(totalTimeoutError("http://x", 500))).toBe("retry");
  });

  it("sends context_length_exceeded (upstream or our own pre-check) to the context-window fallbacks", () => {
    const upstream = upstreamHttpError(
      400,
      '{"error":{"message":"too long","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}',
    );
    expect(classifyFailure(upstream)).toBe("context_window");
    expect(classifyFailure(contextLengthExceeded(9000, 100, 8192))).toBe("context_window");
  });

  it("answers other 4xx as they are", () => {
    for (const status of [400, 401, 403, 404, 413, 422])
      expect(classifyFailure(upstreamHttpError(status, "{}")), String(status)).toBe("final");
  });
});

describe("attempt status and HTTP status", () => {
  it("names timeouts, unreachable upstreams and HTTP errors; only an HTTP error has an upstream status", () => {
    const timeout = mapTransportError(
      Object.assign(new Error("slow"), { code: "UND_ERR_BODY_TIMEOUT" }),
      "http://x",
      1000,
    );
    const reset = mapTransportError(Object.assign(new Error("reset"), { code: "ECONNRESET" }), "http://x", 1000);
    const http = upstreamHttpError(503, "overloaded");
    expect([attemptStatus(timeout), upstreamHttpStatus(timeout)]).toEqual(["timeout", null]);
    expect([attemptStatus(reset), upstreamHttpStatus(reset)]).toEqual(["unreachable", null]);
    expect([attemptStatus(http), upstreamHttpStatus(http)]).toEqual(["error", 503]);
  });
});

describe("Retry-After", () => {
  const now = Date.parse("2026-03-01T12:00:00Z");

  it("reads delay-seconds", () => {
    expect(retryAfterMs("7", now)).toBe(7_000);
    expect(retryAfterMs(" 0 ", now)).toBe(0);
    expect(retryAfterMs("1.5", now)).toBe(1_500);
  });

  it("reads an HTTP-date as the time left until it (0 when past)", () => {
    expect(retryAfterMs("Sun, 01 Mar 2026 12:00:30 GMT", now)).toBe(30_000);
    expect(retryAfterMs("Sun, 01 Mar 2026 11:59:00 GMT", now)).toBe(0);
  });

  it("ignores a missing or unreadable value", () => {
    expect(retryAfterMs(undefined, now)).toBeNull();
    expect(retryAfterMs("", now)).toBeNull();
    expect(retryAfterMs("soon", now)).toBeNull();
    expect(retryAfterMs("-3", now)).toBeNull();
  });

  it("comes from the header the provider kept on the error", () => {
    expect(retryAfterOf(upstreamHttpError(429, "{}", "2"), now)).toBe(2_000);
    expect(retryAfterOf(upstreamHttpError(429, "{}"), now)).toBeNull();
  });
});

describe("backoffMs", () => {
  const settings = { ...DEFAULT_ROUTING, retry_base_ms: 100, retry_max_ms: 1_000 };

  it("is full jitter under retry_base_ms · 2^n", () => {
    expect(backoffMs(0, settings, () => 0)).toBe(0);
    expect(backoffMs(0, settings, () => 0.999)).toBe(99);
    expect(backoffMs(2, settings, () => 0.5)).toBe(200);
    expect(backoffMs(2, settings, () => 0.999)).toBe(399);
  });

  it("never exceeds retry_max_ms, however many retries", () => {
    expect(backoffMs(10, settings, () => 0.999)).toBe(999);
    expect(backoffMs(5_000, settings, () => 0.999)).toBe(999);
  });
});

describe("sleep", () => {
  it("rejects with the abort reason as soon as the signal is aborted", async () => {
    const controller = new AbortController();
    const reason = new Error("client disconnected");
    const waiting = sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it("rejects at once on an aborted signal, resolves at once for 0 ms", async () => {
    await expect(
      sleep(10, AbortSignal.abort(new RelayError({ status: 499, message: "gone", errorClass: "internal" }))),
    ).rejects.toThrow("gone");
    await expect(sleep(0, new AbortController().signal)).resolves.toBeUndefined();
  });
});
