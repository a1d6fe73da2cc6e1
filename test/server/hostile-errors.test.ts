/**
 * Errors of the wrong shape (issue 16, failure 9): of 10,000 fuzzed
 * requests, 962 got Fastify's own body (`{"error":"Bad Request","message":
 * "Client Error","statusCode":400}`), some an empty body (417 for
 * `Expect: 100-foo`, a missing Host, `FST_ERR_BAD_URL` for
 * `/v1/models/%ff%fe`), and none of those carried `x-request-id`. Each kind
 * is sent here over a raw socket (fetch would refuse most of them) and must
 * come back in OpenAI's shape — the envelope on `/internal/*` — with an
 * `x-request-id`, and the proxy keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chat, chatBody } from "../helpers/exchanges.js";
import { errorOf, errorShapeProblem } from "../helpers/error-shapes.js";
import { httpRequest, rawRequest, type RawAnswer } from "../helpers/raw-http.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let proxy: TestProxy;
let port: number;
beforeAll(async () => {
  proxy = await startTestProxy({ bodyLimitBytes: 64 * 1024 });
  port = Number(new URL(proxy.url).port);
});
afterAll(async () => proxy?.close());

const json: [string, string] = ["Content-Type", "application/json"];
const close: [string, string] = ["Connection", "close"];
const validChat = JSON.stringify(chatBody("echo"));

interface Case {
  name: string;
  /** The request target, for the expected shape. */
  target: string;
  bytes: Buffer;
  status: number;
  code: string;
  /** The client's x-request-id, when the answer must echo it (Fastify read the headers). */
  echoedId?: string;
  end?: boolean;
}

const cases: Case[] = [
  {
    name: "unknown /v1 route (404)",
    target: "/v1/nope",
    bytes: httpRequest("GET", "/v1/nope", [close, ["x-request-id", "t-404"]]),
    status: 404,
    code: "unknown_url",
    echoedId: "t-404",
  },
  {
    name: "unknown /internal route (404, envelope)",
    target: "/internal/nope",
    bytes: httpRequest("GET", "/internal/nope", [close, ["x-request-id", "t-404i"]]),
    status: 404,
    code: "unknown_url",
    echoedId: "t-404i",
  },
  {
    name: "invalid JSON (400)",
    target: "/v1/chat/completions",
    bytes: httpRequest(
      "POST",
      "/v1/chat/completions",
      [json, ["Content-Length", "5"], close, ["x-request-id", "t-json"]],
      "{nope",
    ),
    status: 400,
    code: "invalid_json",
    echoedId: "t-json",
  },
  {
    name: "invalid JSON on /internal/usage (400, envelope)",
    target: "/internal/usage",
    bytes: httpRequest("POST", "/internal/usage", [json, ["Content-Length", "5"], close], "{nope"),
    status: 400,
    code: "invalid_json",
  },
  {
    name: "empty JSON body (400)",
    target: "/v1/chat/completions",
    bytes: httpRequest("POST", "/v1/chat/completions", [json, ["Content-Length", "0"], close]),
    status: 400,
    code: "invalid_json",
  },
  {
    name: "body over body_limit_mb (413)",
    target: "/v1/chat/completions",
    bytes: httpRequest(
      "POST",
      "/v1/chat/completions",
      [json, ["Content-Length", String(100 * 1024)], close],
      "x".repeat(100 * 1024),
    ),
    status: 413,
    code: "request_too_large",
  },
  {
    name: "malformed Content-Type (415)",
    target: "/v1/chat/completions",
    bytes: httpRequest(
      "POST",
      "/v1/chat/completions",
      [["Content-Type", ";;;"], ["Content-Length", String(validChat.length)], close],
      validChat,
    ),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "Expect: 100-foo (417)",
    target: "/v1/chat/completions",
    bytes: httpRequest(
      "POST",
      "/v1/chat/completions",
      [json, ["Expect", "100-foo"], ["Content-Length", "2"], ["x-request-id", "t-417"]],
      "{}",
    ),
    status: 417,
    code: "expectation_failed",
    echoedId: "t-417",
  },
  {
    name: "headers over 16 KB (431)",
    target: "/v1/models",
    bytes: httpRequest("GET", "/v1/models", [["X-Big", "a".repeat(20_000)], close]),
    status: 431,
    code: "request_header_fields_too_large",
  },
  {
    name: "headers over 16 KB on /internal/usage (431, envelope)",
    target: "/internal/usage",
    bytes: httpRequest("GET", "/internal/usage", [["X-Big", "a".repeat(20_000)], close]),
    status: 431,
    code: "request_header_fields_too_large",
  },
  {
    name: "no Host header (400)",
    target: "/v1/models",
    bytes: httpRequest("GET", "/v1/models", [close, ["x-request-id", "t-host"]], "", false),
    status: 400,
    code: "missing_host",
    echoedId: "t-host",
  },
  {
    name: "bad URL /v1/models/%ff%fe (FST_ERR_BAD_URL, 400)",
    target: "/v1/models/%ff%fe",
    bytes: httpRequest("GET", "/v1/models/%ff%fe", [close, ["x-request-id", "t-url"]]),
    status: 400,
    code: "invalid_url",
    echoedId: "t-url",
  },
  {
    name: "Content-Length: abc (400)",
    target: "/v1/chat/completions",
    bytes: httpRequest("POST", "/v1/chat/completions", [json, ["Content-Length", "abc"], close], "{}"),
    status: 400,
    code: "invalid_content_length",
  },
  {
    name: "two different Content-Lengths (400)",
    target: "/v1/chat/completions",
    bytes: httpRequest(
      "POST",
      "/v1/chat/completions",
      [json, ["Content-Length", "2"], ["Content-Length", "3"], close],
      "{}",
    ),
    status: 400,
    code: "invalid_content_length",
  },
  {
    name: "Content-Length with Transfer-Encoding (400)",
    target: "/v1/chat/completions",
    bytes: httpRequest(
      "POST",
      "/v1/chat/completions",
      [json, ["Transfer-Encoding", "chunked"], ["Content-Length", "2"], close],
      "2\r\n{}\r\n0\r\n\r\n",
    ),
    status: 400,
    code: "invalid_content_length",
  },
  {
    name: "bad chunk size (400)",
    target: "/v1/chat/completions",
    bytes: httpRequest(
      "POST",
      "/v1/chat/completions",
      [json, ["Transfer-Encoding", "chunked"], close],
      "zz\r\n{}\r\n0\r\n\r\n",
    ),
    status: 400,
    code: "invalid_http",
  },
  {
    name: "invalid method bytes (400)",
    target: "/",
    bytes: Buffer.from("G\x01T / HTTP/1.1\r\nHost: x\r\n\r\n", "latin1"),
    status: 400,
    code: "invalid_http",
  },
  {
    name: "body shorter than its Content-Length, then the client's FIN (400)",
    target: "/v1/chat/completions",
    bytes: httpRequest("POST", "/v1/chat/completions", [json, ["Content-Length", "100"]], '{"model":'),
    status: 400,
    code: "invalid_http",
    end: true,
  },
];

describe("every error in its route's shape, with x-request-id", () => {
  it.each(cases)("$name", async (testCase) => {
    const answer: RawAnswer = await rawRequest(port, testCase.bytes, { end: testCase.end ?? false, timeoutMs: 5_000 });
    expect(answer.status, answer.body).toBe(testCase.status);
    expect(errorShapeProblem(testCase.target, answer)).toBeNull();
    expect(errorOf(answer).code).toBe(testCase.code);
    const id = answer.headers["x-request-id"];
    if (testCase.echoedId) expect(id).toBe(testCase.echoedId);
    else expect(id).toMatch(/^req_[0-9a-hjkmnp-tv-z]{26}$/);
    // The proxy still serves.
    const next = await chat(proxy, chatBody("echo"));
    expect(next.status).toBe(200);
  });
});
