/**
 * The catalog of error codes (src/protocol/error-codes.ts): each factory gives the body, status and class a
 * client and the record have always seen for its code (OpenAI's shape, https://platform.openai.com/docs/guides/error-codes),
 * and an upstream's own code is relayed unchanged. The expected values are written out here, not read from the catalog.
 */
import { describe, expect, it } from "vitest";
import {
  ERROR_CODES,
  errors,
  isRelayErrorCode,
  relayedUpstreamError,
  uncodedError,
  upstreamErrorCode,
} from "../../src/protocol/error-codes.js";
import {
  invalidRequest,
  modelNotFound,
  RelayError,
  serverShuttingDown,
  toRelayError,
  upstreamInvalidResponse,
} from "../../src/protocol/errors.js";

describe("the error-code catalog", () => {
  it.each([
    // code, status, type, param, class, factory
    ["model_not_found", 404, "invalid_request_error", "model", "not_found", errors.modelNotFound],
    [
      "context_length_exceeded",
      400,
      "invalid_request_error",
      "messages",
      "invalid_request",
      errors.contextLengthExceeded,
    ],
    ["invalid_api_key", 401, "invalid_request_error", null, "invalid_request", errors.invalidApiKey],
    ["model_not_allowed", 403, "permission_error", "model", "invalid_request", errors.modelNotAllowed],
    ["budget_exceeded", 429, "insufficient_quota", null, "invalid_request", errors.budgetExceeded],
    ["idempotency_in_progress", 409, "invalid_request_error", null, "invalid_request", errors.idempotencyInProgress],
    ["idempotency_key_reused", 422, "invalid_request_error", null, "invalid_request", errors.idempotencyKeyReused],
    ["request_too_large", 413, "invalid_request_error", null, "payload_too_large", errors.requestTooLarge],
    [
      "request_header_fields_too_large",
      431,
      "invalid_request_error",
      null,
      "invalid_request",
      errors.requestHeaderFieldsTooLarge,
    ],
    ["unknown_url", 404, "invalid_request_error", null, "not_found", errors.unknownUrl],
    ["server_busy", 503, "server_error", null, "internal", errors.serverBusy],
    ["provider_unavailable", 501, "server_error", null, "internal", errors.providerUnavailable],
    ["upstream_unreachable", 502, "server_error", null, "upstream_unreachable", errors.upstreamUnreachable],
    ["upstream_error", 502, "server_error", null, "upstream_unreachable", errors.upstreamError],
    ["upstream_truncated", 502, "server_error", null, "upstream_protocol", errors.upstreamTruncated],
    ["upstream_timeout", 504, "server_error", null, "upstream_timeout", errors.upstreamTimeout],
    ["aborted", 499, "invalid_request_error", null, "internal", errors.aborted],
  ] as const)("%s: HTTP %i, type %s, param %s, class %s", (code, status, type, param, errorClass, factory) => {
    const error = factory("what went wrong");
    expect(error).toBeInstanceOf(RelayError);
    expect(error.status).toBe(status);
    expect(error.errorClass).toBe(errorClass);
    expect(error.toBody()).toEqual({ error: { message: "what went wrong", type, param, code } });
  });

  it("has a factory for every code, named as the code in camelCase", () => {
    const names = Object.keys(errors);
    expect(names).toHaveLength(Object.keys(ERROR_CODES).length);
    expect(names).toContain("requestHeaderFieldsTooLarge");
    expect(names.every((name) => /^[a-z][A-Za-z]*$/.test(name))).toBe(true);
    expect(errors.invalidChatTemplate("x").code).toBe("invalid_chat_template");
  });

  it("a factory's extras: a param, headers and a cause; rate_limit_exceeded's type names the limit; upstream_error's class when the upstream answered", () => {
    const cause = new Error("socket hang up");
    const error = errors.requestTimeout("late", { param: "body", headers: { "retry-after": "2" }, cause });
    expect(error.toBody().error.param).toBe("body");
    expect(error.headers).toEqual({ "retry-after": "2" });
    expect(error.cause).toBe(cause);
    expect(errors.rateLimitExceeded("slow down", { type: "tokens" }).toBody().error.type).toBe("tokens");
    expect(errors.upstreamError("Ollama failed", { errorClass: "upstream_http" }).errorClass).toBe("upstream_http");
  });

  it("the helpers of errors.ts answer as before", () => {
    expect(modelNotFound("nope").toBody().error).toMatchObject({
      type: "invalid_request_error",
      param: "model",
      code: "model_not_found",
    });
    expect(modelNotFound("nope").status).toBe(404);
    expect(invalidRequest("bad", "messages.0.role", "invalid_value").toBody()).toEqual({
      error: { message: "bad", type: "invalid_request_error", param: "messages.0.role", code: "invalid_value" },
    });
    expect(invalidRequest("bad").toBody()).toEqual({
      error: { message: "bad", type: "invalid_request_error", param: null, code: null },
    });
    expect(serverShuttingDown().status).toBe(503);
    const invalid = upstreamInvalidResponse("The upstream sent invalid JSON", "<html>");
    expect(invalid.toBody().error).toMatchObject({
      message: "The upstream sent invalid JSON: <html>",
      type: "server_error",
      code: "upstream_invalid_response",
    });
    expect(invalid.toRecordJson()).toMatchObject({ upstream_body: "<html>" });
    const internal = toRelayError(new Error("disk on fire"));
    expect([internal.status, internal.errorClass, internal.message, internal.code]).toEqual([
      500,
      "internal",
      "Internal error: disk on fire",
      null,
    ]);
  });

  it("relays an upstream's own code, type and status unchanged, class upstream_http", () => {
    const error = relayedUpstreamError({
      status: 418,
      message: "I'm a teapot",
      type: "teapot_error",
      code: upstreamErrorCode("short_and_stout"),
      param: "spout",
    });
    expect(error.status).toBe(418);
    expect(error.errorClass).toBe("upstream_http");
    expect(error.toBody()).toEqual({
      error: { message: "I'm a teapot", type: "teapot_error", param: "spout", code: "short_and_stout" },
    });
    expect(isRelayErrorCode("short_and_stout")).toBe(false);
    expect(isRelayErrorCode("upstream_timeout")).toBe(true);
    expect(isRelayErrorCode("toString")).toBe(false);
  });

  it("an error without a code: 500 server_error, or a framework's 4xx as invalid_request_error", () => {
    expect(uncodedError("boom").toBody()).toEqual({
      error: { message: "boom", type: "server_error", param: null, code: null },
    });
    const client = uncodedError("Method Not Allowed", 405);
    expect([client.status, client.errorClass, client.toBody().error.type]).toEqual([
      405,
      "invalid_request",
      "invalid_request_error",
    ]);
  });
});
