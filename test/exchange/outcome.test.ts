/**
 * The exchange core's outcome mapping (src/exchange/outcome.ts), which the
 * server's route and the library's in-process transport share: `ok`,
 * `error` with the upstream's status, `truncated` after some output,
 * `cancelled` (499, or 503 `server_shutting_down` for a stop), and the
 * OpenAI error body the record keeps.
 */
import { describe, expect, it } from "vitest";
import { failedOutcome, okOutcome, SHUTDOWN_REASON } from "../../src/exchange/outcome.js";
import { RelayError } from "../../src/protocol/errors.js";
import type { RawOutput } from "../../src/recording/types.js";

const live = new AbortController().signal;

function aborted(reason: Error): AbortSignal {
  const controller = new AbortController();
  controller.abort(reason);
  return controller.signal;
}

const invalid = new RelayError({
  status: 502,
  message: "The upstream answered with invalid JSON",
  code: "upstream_protocol",
  errorClass: "upstream_protocol",
  upstreamBody: "<html>",
});
const received: RawOutput = { kind: "stream", events: ['{"choices":[{"delta":{"content":"Hel"}}]}'] };

describe("exchange outcome", () => {
  it("ok keeps the output and no error", () => {
    const output: RawOutput = { kind: "completion", body: "{}" };
    expect(okOutcome(output)).toEqual({
      status: "ok",
      httpStatus: 200,
      output,
      errorJson: null,
      error: null,
      errorClass: null,
    });
  });

  it("a failure before any output is an error with the upstream's status and OpenAI's error body, the invalid answer kept", () => {
    const { outcome, answer } = failedOutcome(invalid, live, { received: null, statusSent: false });
    expect(answer).toBe(invalid);
    expect(outcome).toMatchObject({
      status: "error",
      httpStatus: 502,
      output: null,
      error: invalid.message,
      errorClass: "upstream_protocol",
    });
    expect(outcome.errorJson).toEqual({
      error: { message: invalid.message, type: "server_error", param: null, code: "upstream_protocol" },
      upstream_body: "<html>",
    });
  });

  it("a refusal keeps the backend's prompt token count", () => {
    const refusal = new RelayError({
      status: 400,
      message: "too long",
      code: "context_length_exceeded",
      errorClass: "upstream_http",
      promptTokens: 9000,
    });
    expect(failedOutcome(refusal, live, { received: null, statusSent: false }).outcome.promptTokens).toBe(9000);
  });

  it("a thrown non-RelayError is a 500 internal error", () => {
    const { outcome } = failedOutcome(new TypeError("boom"), live, { received: null, statusSent: false });
    expect(outcome).toMatchObject({
      status: "error",
      httpStatus: 500,
      error: "Internal error: boom",
      errorClass: "internal",
    });
  });

  it("a failure after some output is truncated, recorded 200 with what was received", () => {
    const { outcome } = failedOutcome(
      new RelayError({ status: 502, message: "reset", errorClass: "upstream_unreachable" }),
      live,
      { received, statusSent: false },
    );
    expect(outcome).toMatchObject({
      status: "truncated",
      httpStatus: 200,
      output: received,
      error: "reset",
      errorClass: "upstream_unreachable",
    });
  });

  it("an abort is cancelled with the reason: 499 before a status was sent, 200 after, with 499 cancelled as the body", () => {
    const signal = aborted(new Error("client disconnected"));
    const before = failedOutcome(signal.reason, signal, { received: null, statusSent: false });
    expect(before.outcome).toMatchObject({
      status: "cancelled",
      httpStatus: 499,
      output: null,
      error: "client disconnected",
      errorClass: null,
    });
    expect(before.answer.toBody().error.code).toBe("cancelled");
    const after = failedOutcome(signal.reason, signal, { received, statusSent: true });
    expect(after.outcome).toMatchObject({ status: "cancelled", httpStatus: 200, output: received });
  });

  it("a stop before the status was sent answers 503 server_shutting_down; in a stream already sent, 499 cancelled in-band", () => {
    const signal = aborted(new Error(SHUTDOWN_REASON));
    const before = failedOutcome(signal.reason, signal, { received: null, statusSent: false });
    expect(before.outcome.httpStatus).toBe(503);
    expect(before.outcome.error).toBe(SHUTDOWN_REASON);
    expect(before.outcome.errorJson?.error.code).toBe("server_shutting_down");
    const during = failedOutcome(signal.reason, signal, { received, statusSent: true });
    expect(during.outcome.httpStatus).toBe(200);
    expect(during.answer.toBody().error).toMatchObject({ code: "cancelled", message: SHUTDOWN_REASON });
  });
});
