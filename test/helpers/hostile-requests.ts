/**
 * fast-check arbitraries of hostile HTTP requests, as raw bytes, against the
 * proxy's routes (`/v1/chat/completions`, `/v1/embeddings`, `/v1/models`,
 * `/v1/models/{id}`, `/internal/usage`, `/internal/health`, `/health`):
 * wrong types in every field, invalid and deep JSON, huge strings, invalid
 * UTF-8, bad content types, header abuse (huge headers, bad `Expect`,
 * duplicate or invalid `Content-Length`, bad `x-request-id`), truncated
 * bodies and bad URLs. Sample them with a seed (`fc.sample(hostileRequest(),
 * { seed, numRuns })`) so a failing run can be replayed.
 */
import fc from "fast-check";
import { httpRequest } from "./raw-http.js";

/** One generated request. */
export interface HostileRequest {
  /** Its category, for reports. */
  kind: string;
  /** The request target (path and query), which decides the expected error shape. */
  target: string;
  method: string;
  bytes: Buffer;
  /** Half-close the socket after the bytes (the client sends nothing more). */
  end: boolean;
  /**
   * The server may only close the connection without an answer: the client
   * half-closed before its request was complete, so there can be no request
   * to answer (Node still answers most with a 400).
   */
  mayClose: boolean;
  /**
   * The server cannot know the route: the client half-closed inside the
   * request line or headers (Node hands over none of them), so an error in
   * either shape (OpenAI's or the envelope) is right.
   */
  routeUnknown?: boolean;
}

/** The routes under test. */
export const FUZZ_TARGETS = [
  "/v1/chat/completions",
  "/v1/messages",
  "/v1/responses",
  "/v1/embeddings",
  "/v1/models",
  "/v1/models/echo",
  "/internal/usage",
  "/internal/health",
  "/health",
] as const;

/** A whole request with `Host`, `Content-Length` (unless `headers` has a framing header) and `Connection: close`. */
function build(
  kind: string,
  method: string,
  target: string,
  headers: [string, string][],
  body: Buffer | string = "",
  extra: Partial<HostileRequest> = {},
): HostileRequest {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const framed = headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name));
  const all: [string, string][] = [
    ...headers,
    ...(framed || bytes.length === 0 ? [] : ([["Content-Length", String(bytes.length)]] as [string, string][])),
    ["Connection", "close"],
  ];
  return {
    kind,
    target,
    method,
    bytes: httpRequest(method, target, all, bytes),
    end: false,
    mayClose: false,
    ...extra,
  };
}

const json: [string, string] = ["Content-Type", "application/json"];

/** Where a chat body's fields live, to put a wrong value in. */
const CHAT_PATHS: (string | number)[][] = [
  ["model"],
  ["messages"],
  ["messages", 0],
  ["messages", 0, "role"],
  ["messages", 0, "content"],
  ["messages", 0, "content", 0],
  ["messages", 0, "content", 0, "type"],
  ["messages", 0, "name"],
  ["messages", 0, "tool_calls"],
  ["messages", 1],
  ["stream"],
  ["stream_options"],
  ["temperature"],
  ["top_p"],
  ["max_tokens"],
  ["max_completion_tokens"],
  ["n"],
  ["stop"],
  ["tools"],
  ["tools", 0, "function"],
  ["tool_choice"],
  ["response_format"],
  ["seed"],
  ["user"],
  ["logit_bias"],
  ["metadata"],
  ["x_unknown"],
];
const EMBEDDING_PATHS: (string | number)[][] = [
  ["model"],
  ["input"],
  ["input", 0],
  ["encoding_format"],
  ["dimensions"],
  ["user"],
  ["x_unknown"],
];
/** Where an Anthropic Messages body's fields live. */
const MESSAGES_PATHS: (string | number)[][] = [
  ["model"],
  ["max_tokens"],
  ["messages"],
  ["messages", 0],
  ["messages", 0, "role"],
  ["messages", 0, "content"],
  ["messages", 0, "content", 0],
  ["messages", 0, "content", 0, "type"],
  ["messages", 0, "content", 0, "text"],
  ["messages", 0, "content", 0, "cache_control"],
  ["system"],
  ["system", 0],
  ["stream"],
  ["stop_sequences"],
  ["temperature"],
  ["tools"],
  ["tools", 0, "input_schema"],
  ["tool_choice"],
  ["thinking"],
  ["metadata"],
  ["x_unknown"],
];
/** Where an OpenAI Responses body's fields live. */
const RESPONSES_PATHS: (string | number)[][] = [
  ["model"],
  ["input"],
  ["input", 0],
  ["input", 0, "role"],
  ["input", 0, "content"],
  ["input", 0, "content", 0],
  ["input", 0, "content", 0, "type"],
  ["instructions"],
  ["stream"],
  ["tools"],
  ["tools", 0, "type"],
  ["tool_choice"],
  ["max_output_tokens"],
  ["previous_response_id"],
  ["reasoning"],
  ["text", "format"],
  ["x_unknown"],
];
const USAGE_PATHS: (string | number)[][] = [
  ["model"],
  ["tenantId"],
  ["keyId"],
  ["inputTokens"],
  ["outputTokens"],
  ["costUsd"],
  ["idempotencyKey"],
  ["metadata"],
  ["tokenType"],
  ["operation"],
  ["estimated"],
];

/** A valid body for the POST routes. */
function validBody(target: string): Record<string, unknown> {
  if (target === "/v1/embeddings") return { model: "echo", input: ["fuzz"] };
  if (target === "/internal/usage") return { model: "fuzz-model", inputTokens: 1, outputTokens: 1 };
  if (target === "/v1/messages")
    return { model: "echo", max_tokens: 64, messages: [{ role: "user", content: [{ type: "text", text: "fuzz" }] }] };
  if (target === "/v1/responses")
    return { model: "echo", input: [{ role: "user", content: [{ type: "input_text", text: "fuzz" }] }] };
  return { model: "echo", messages: [{ role: "user", content: "fuzz" }] };
}

/** `body` with `value` at `path` (containers made on the way). */
function setAt(body: Record<string, unknown>, path: (string | number)[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(body);
  let node: Record<string | number, unknown> = copy;
  path.forEach((key, index) => {
    if (index === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (next === null || typeof next !== "object") node[key] = typeof path[index + 1] === "number" ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  });
  return copy;
}

/** The routes that take a POST body. */
const POST_TARGETS = ["/v1/chat/completions", "/v1/messages", "/v1/responses", "/v1/embeddings", "/internal/usage"];
/** The routes whose body may ask for a stream. */
const STREAM_TARGETS = ["/v1/chat/completions", "/v1/messages", "/v1/responses"];
const postTarget = fc.constantFrom(...POST_TARGETS);
const anyTarget = fc.constantFrom(...FUZZ_TARGETS);
const pathsOf = (target: string) =>
  target === "/v1/embeddings"
    ? EMBEDDING_PATHS
    : target === "/internal/usage"
      ? USAGE_PATHS
      : target === "/v1/messages"
        ? MESSAGES_PATHS
        : target === "/v1/responses"
          ? RESPONSES_PATHS
          : CHAT_PATHS;

/** A JSON value of any type, small. */
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, false, 0, -1, 1e308, -0.5, "", "user", [], {}, [[]], { role: "x" }),
);

/** Words of about `size` characters (cheap to tokenize: `echo` counts its tokens). */
function words(size: number, seed: number): string {
  const vocabulary = ["lorem", "ipsum", "dolor", "sit", "amet", "état", "数据", "🙂", "x", "—"];
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const word = vocabulary[(seed + i * 7) % vocabulary.length]!;
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(" ");
}

/** A valid body with one field of the wrong type or value. */
const wrongType = fc.tuple(postTarget, fc.nat(), anyJson, fc.boolean()).map(([target, pick, value, stream]) => {
  const paths = pathsOf(target);
  const body = setAt(validBody(target), paths[pick % paths.length]!, value);
  if (stream && STREAM_TARGETS.includes(target) && !("stream" in body)) body.stream = true;
  return build("wrong-type", "POST", target, [json], JSON.stringify(body));
});

/** Text that is not JSON, or JSON cut short. */
const invalidJson = fc
  .tuple(
    postTarget,
    fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 })),
    fc.nat(),
    fc.boolean(),
  )
  .map(([target, text, cut, truncate]) => {
    const valid = JSON.stringify(validBody(target));
    return build("invalid-json", "POST", target, [json], truncate ? valid.slice(0, cut % valid.length) : text);
  });

/** A body nested 65–6,000 levels in some field. */
const deepJson = fc
  .tuple(postTarget, fc.integer({ min: 65, max: 6_000 }), fc.nat(), fc.boolean())
  .map(([target, depth, pick, arrays]) => {
    const paths = pathsOf(target);
    const marker = "__DEEP__";
    const text = JSON.stringify(setAt(validBody(target), paths[pick % paths.length]!, marker));
    const deep = arrays ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
    return build("deep-json", "POST", target, [json], text.replace(JSON.stringify(marker), deep));
  });

/** A string of 50 KB–1.2 MB (over the 1 MB body limit sometimes) in some field. */
const hugeString = fc
  .tuple(postTarget, fc.integer({ min: 50_000, max: 1_200_000 }), fc.nat())
  .map(([target, size, pick]) => {
    const paths = pathsOf(target);
    return build(
      "huge-string",
      "POST",
      target,
      [json],
      JSON.stringify(setAt(validBody(target), paths[pick % paths.length]!, words(size, pick))),
    );
  });

/** A valid body with bytes that are not UTF-8 put in. */
const invalidUtf8 = fc
  .tuple(postTarget, fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.nat())
  .map(([target, junk, at]) => {
    const valid = Buffer.from(JSON.stringify(validBody(target)));
    const bad = Buffer.from(junk.map((byte) => 0x80 | byte));
    const position = at % valid.length;
    return build(
      "invalid-utf8",
      "POST",
      target,
      [json],
      Buffer.concat([valid.subarray(0, position), bad, valid.subarray(position)]),
    );
  });

/** An unusual or broken Content-Type, with a valid or broken body. */
const contentType = fc
  .tuple(
    postTarget,
    fc.oneof(
      fc.constantFrom(
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=utf-16",
        "application/json; charset=latin1",
        ";;;",
        "application/json, text/plain",
        "*/*",
        "application/octet-stream",
        "application/json\t; x=y",
        "APPLICATION/JSON",
        "application/jsonx",
      ),
      fc.string({ minLength: 1, maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, "x")),
    ),
    fc.boolean(),
  )
  .map(([target, type, valid]) =>
    build(
      "content-type",
      "POST",
      target,
      [["Content-Type", type]],
      valid ? JSON.stringify(validBody(target)) : "{not json",
    ),
  );

/** Abused headers: huge, many, bad Expect, bad or repeated Content-Length, bad x-request-id, bad names, no Host. */
const headerAbuse = fc
  .tuple(anyTarget, fc.nat(), fc.integer({ min: 17_000, max: 40_000 }), fc.string({ maxLength: 30 }))
  .map(([target, pick, size, text]): HostileRequest => {
    const body = JSON.stringify(validBody(target));
    const method = POST_TARGETS.includes(target) && target !== "/internal/usage" ? "POST" : "GET";
    const withBody = method === "POST" ? body : "";
    const cases: (() => HostileRequest)[] = [
      () => build("header-huge", method, target, [json, ["X-Pad", "a".repeat(size)]], withBody),
      () =>
        build(
          "header-many",
          method,
          target,
          [json, ...Array.from({ length: 300 }, (_, i) => [`X-H${i}`, "v".repeat(60)] as [string, string])],
          withBody,
        ),
      () =>
        build(
          "header-expect",
          "POST",
          target,
          [json, ["Expect", ["100-foo", "foo", "", "100-continue, foo", text.replace(/[^\x20-\x7e]/g, "")][pick % 5]!]],
          body,
        ),
      () => build("header-expect-continue", "POST", target, [json, ["Expect", "100-continue"]], body),
      () =>
        build(
          "content-length-invalid",
          "POST",
          target,
          [json, ["Content-Length", ["-1", "1e3", "abc", " 5", "99999999999999999999", "0x10", "5, 5", ""][pick % 8]!]],
          body,
        ),
      () =>
        build(
          "content-length-repeated",
          "POST",
          target,
          [json, ["Content-Length", String(body.length)], ["Content-Length", String(body.length + (pick % 2))]],
          body,
        ),
      () =>
        build(
          "content-length-and-chunked",
          "POST",
          target,
          [json, ["Content-Length", String(body.length)], ["Transfer-Encoding", "chunked"]],
          `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
        ),
      () =>
        build(
          "transfer-encoding-odd",
          "POST",
          target,
          [json, ["Transfer-Encoding", ["gzip, chunked", "identity", "chunked, gzip", "x"][pick % 4]!]],
          `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
        ),
      () =>
        build(
          "chunked-broken",
          "POST",
          target,
          [json, ["Transfer-Encoding", "chunked"]],
          ["zz\r\n{}\r\n0\r\n\r\n", "ffffffffffffffffff\r\n{}", `${body.length.toString(16)}\r\n${body}XX0\r\n\r\n`][
            pick % 3
          ],
        ),
      () =>
        build("request-id-long", method, target, [json, ["x-request-id", "r".repeat(300 + (pick % 5_000))]], withBody),
      () => build("request-id-control", method, target, [json, ["x-request-id", `id\x01${text}`]], withBody),
      () =>
        build(
          "request-id-obs-text",
          method,
          target,
          [json, ["x-request-id", Buffer.from("idé", "utf8").toString("latin1")]],
          withBody,
        ),
      () => build("header-name-invalid", method, target, [json, ["Bad Header", "x"]], withBody),
      () => build("header-value-newline", method, target, [json, ["X-A", "a\rb"]], withBody),
      () => ({
        ...build("no-host", method, target, [json], withBody),
        bytes: httpRequest(
          method,
          target,
          [json, ["Content-Length", String(withBody.length)], ["Connection", "close"]],
          withBody,
          false,
        ),
      }),
      () => ({
        kind: "http-1.0",
        target,
        method,
        bytes: Buffer.from(
          `${method} ${target} HTTP/1.0\r\n${method === "POST" ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` : ""}\r\n${withBody}`,
        ),
        end: false,
        mayClose: false,
      }),
      () => build("host-repeated", method, target, [json, ["Host", "evil.example"]], withBody),
    ];
    return cases[pick % cases.length]!();
  });

/** A body shorter than announced: the client then half-closes (fin) or just stops (the body timeout answers). */
const truncated = fc
  .tuple(postTarget, fc.nat(), fc.integer({ min: 1, max: 1_000 }), fc.nat({ max: 49 }))
  .map(([target, cut, missing, roll]) => {
    const body = JSON.stringify(validBody(target));
    const sent = body.slice(0, cut % body.length);
    const shape = cut % 3;
    // Without the FIN the server waits for the body timeout: kept rare (1 in 50 of these) so the run stays short.
    const fin = roll !== 0;
    if (shape === 0) {
      return {
        ...build(
          "truncated-body",
          "POST",
          target,
          [json, ["Content-Length", String(Buffer.byteLength(body) + missing)]],
          sent,
        ),
        end: fin,
        mayClose: fin,
      };
    }
    if (shape === 1) {
      return {
        ...build(
          "truncated-chunked",
          "POST",
          target,
          [json, ["Transfer-Encoding", "chunked"]],
          `${body.length.toString(16)}\r\n${sent}`,
        ),
        end: fin,
        mayClose: fin,
      };
    }
    const head = httpRequest("POST", target, [json, ["Content-Length", String(body.length)]]).toString("latin1");
    return {
      kind: "truncated-head",
      target,
      method: "POST",
      bytes: Buffer.from(head.slice(0, (cut % (head.length - 4)) + 1), "latin1"),
      end: true,
      mayClose: true,
      routeUnknown: true,
    };
  });

/** Bad or odd request targets. */
const badUrl = fc
  .tuple(fc.nat(), fc.string({ maxLength: 40 }), fc.integer({ min: 200, max: 8_000 }))
  .map(([pick, text, long]) => {
    const targets = [
      "/v1/models/%ff%fe",
      "/v1/models/%",
      "/v1/models/%zz",
      "/v1/models/%C0%AF",
      `/v1/models/${encodeURIComponent(text)}`,
      `/v1/models/${"m".repeat(long)}`,
      "//v1/models",
      "/v1//models",
      "/v1/models/../../etc/passwd",
      "/v1/chat/completions?x=%ff",
      "/internal/usage?since=%ff",
      `/internal/usage?since=${encodeURIComponent(text)}`,
      "/internal/usage?group_by=nope",
      "/internal/usage?tenant=&tenant=x",
      "/internal/health?%",
      "/health?%ff=%fe",
      "/internal",
      "/internal/",
      "*",
      "http://127.0.0.1/v1/models",
      `/${"a".repeat(long)}`,
    ];
    const target = targets[pick % targets.length]!;
    return { ...build("bad-url", "GET", target, []), target: target.startsWith("http://") ? "/v1/models" : target };
  });

/** Raw non-ASCII bytes in the path, and methods that are not HTTP. */
const badRequestLine = fc
  .tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 6 }))
  .map(([pick, junk]): HostileRequest => {
    const lines = [
      Buffer.concat([
        Buffer.from("GET /v1/models/"),
        Buffer.from(junk.map((b) => 0x80 | b)),
        Buffer.from(" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      ]),
      Buffer.from("G\x01T /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "latin1"),
      Buffer.from("GET /health HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n"),
      Buffer.from("GET /health\r\nHost: x\r\n\r\n"),
      Buffer.from("GET  /health  HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      Buffer.from("\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      Buffer.concat([Buffer.from(junk), Buffer.from("\r\n\r\n")]),
    ];
    return {
      kind: "bad-request-line",
      target: pick % lines.length === 0 ? "/v1/models/x" : "/health",
      method: "GET",
      bytes: lines[pick % lines.length]!,
      end: false,
      mayClose: false,
    };
  });

/** Every route with every common method (and some that are not). */
const methods = fc
  .tuple(
    anyTarget,
    fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO", "CONNECT"),
    fc.boolean(),
  )
  .map(([target, method, withBody]) =>
    method === "CONNECT"
      ? {
          kind: "method",
          target: "/",
          method,
          bytes: Buffer.from("CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n"),
          end: false,
          mayClose: false,
        }
      : build("method", method, target, withBody ? [json] : [], withBody ? JSON.stringify(validBody(target)) : ""),
  );

/** Valid requests, so successes are mixed in (and recorded). */
const valid = fc.tuple(anyTarget, fc.boolean()).map(([target, stream]) => {
  if (!POST_TARGETS.includes(target)) return build("valid", "GET", target, []);
  const body = STREAM_TARGETS.includes(target) && stream ? { ...validBody(target), stream: true } : validBody(target);
  return build("valid", "POST", target, [json], JSON.stringify(body));
});

/** One hostile request of any kind. */
export function hostileRequest(): fc.Arbitrary<HostileRequest> {
  return fc.oneof(
    { arbitrary: wrongType, weight: 6 },
    { arbitrary: invalidJson, weight: 3 },
    { arbitrary: deepJson, weight: 2 },
    { arbitrary: hugeString, weight: 1 },
    { arbitrary: invalidUtf8, weight: 2 },
    { arbitrary: contentType, weight: 2 },
    { arbitrary: headerAbuse, weight: 5 },
    { arbitrary: truncated, weight: 2 },
    { arbitrary: badUrl, weight: 2 },
    { arbitrary: badRequestLine, weight: 1 },
    { arbitrary: methods, weight: 2 },
    { arbitrary: valid, weight: 2 },
  );
}
