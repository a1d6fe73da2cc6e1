/**
 * Unbounded clients (issue 16, failure 11): a client that trickled its body
 * held its connection forever, and large bodies in flight took the RSS to
 * 1.4 GB. Now a body must arrive within `body_timeout_ms` (408 in OpenAI's
 * shape with `x-request-id`, connection closed), and past
 * `max_body_mb_in_flight` of bodies held at once new requests get 503
 * `server_busy` with `Retry-After` until the others are done.
 */
import net from "node:net";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chat, chatBody } from "../helpers/exchanges.js";
import { errorOf, errorShapeProblem } from "../helpers/error-shapes.js";
import { httpRequest, rawRequest, startRawRequest } from "../helpers/raw-http.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

const json: [string, string] = ["Content-Type", "application/json"];
const close: [string, string] = ["Connection", "close"];
const portOf = (proxy: TestProxy) => Number(new URL(proxy.url).port);

/** A valid echo chat body of exactly `bytes` bytes (the user's content is padded with short words, cheap to count in tokens). */
function chatOfSize(bytes: number): string {
  const empty = JSON.stringify({ model: "echo", messages: [{ role: "user", content: "" }] });
  return JSON.stringify({
    model: "echo",
    messages: [{ role: "user", content: "ab ".repeat(bytes).slice(0, bytes - empty.length) }],
  });
}

describe("body_timeout_ms", () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startTestProxy({ bodyTimeoutMs: 500 });
  });
  afterAll(async () => proxy?.close());

  it.each([
    ["with a Content-Length", [json, ["Content-Length", "200"]] as [string, string][], '{"mo', "d"],
    ["chunked", [json, ["Transfer-Encoding", "chunked"]] as [string, string][], '4\r\n{"mo\r\n', "1\r\nd\r\n"],
  ])(
    "answers a body trickled %s with 408 within the timeout and closes the connection",
    async (_name, headers, first, drip) => {
      // One byte every 100 ms for 6 s: the body would take far longer than 500 ms to arrive.
      const answer = await rawRequest(
        portOf(proxy),
        httpRequest("POST", "/v1/chat/completions", [...headers, ["x-request-id", "slow-body"]], first),
        {
          trickle: { pieces: Array.from({ length: 60 }, () => drip), delayMs: 100 },
          timeoutMs: 8_000,
          closeWaitMs: 2_000,
        },
      );
      expect(answer.status, `no answer within 8 s (${answer.ms} ms)`).toBe(408);
      expect(errorShapeProblem("/v1/chat/completions", answer)).toBeNull();
      expect(errorOf(answer).code).toBe("request_timeout");
      expect(errorOf(answer).message).toContain("500 ms");
      expect(answer.headers["x-request-id"]).toBe("slow-body");
      expect(answer.ms).toBeGreaterThanOrEqual(450);
      expect(answer.ms).toBeLessThan(5_000);
      expect(answer.closed, "the server closes the connection after a 408").toBe(true);
    },
  );

  it("serves a body that arrives in pieces within the timeout", async () => {
    const body = JSON.stringify(chatBody("echo"));
    const third = Math.ceil(body.length / 3);
    const answer = await rawRequest(
      portOf(proxy),
      httpRequest(
        "POST",
        "/v1/chat/completions",
        [json, ["Content-Length", String(body.length)], close],
        body.slice(0, third),
      ),
      {
        trickle: { pieces: [body.slice(third, 2 * third), body.slice(2 * third)], delayMs: 50 },
        timeoutMs: 5_000,
      },
    );
    expect(answer.status, answer.body).toBe(200);
  });
});

describe("a body answered before it was read", () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startTestProxy({ bodyLimitBytes: 64 * 1024, bodyTimeoutMs: 500 });
  });
  afterAll(async () => proxy?.close());

  it("reaches a client still sending it (413, the rest drained, not reset)", async () => {
    for (let i = 0; i < 5; i++) {
      const body = "x".repeat(16 * 1024 * 1024);
      const answer = await rawRequest(
        portOf(proxy),
        httpRequest("POST", "/v1/chat/completions", [json, ["Content-Length", String(body.length)], close], body),
        { timeoutMs: 5_000, readAfterWrite: true },
      );
      expect(answer.status, `attempt ${i}: the 413 was lost`).toBe(413);
      expect(errorOf(answer).code).toBe("request_too_large");
    }
  });

  it("closes the connection at the body deadline when the client keeps trickling the refused body", async () => {
    const answer = await rawRequest(
      portOf(proxy),
      httpRequest("POST", "/v1/chat/completions", [json, ["Content-Length", String(100 * 1024)]], "{"),
      {
        trickle: { pieces: Array.from({ length: 60 }, () => "x"), delayMs: 100 },
        timeoutMs: 8_000,
        closeWaitMs: 4_000,
      },
    );
    expect(answer.status).toBe(413);
    expect(answer.closed, "the connection was held past the body deadline").toBe(true);
  });
});

describe("a refused body drained within the deadline", () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startTestProxy({ bodyLimitBytes: 64 * 1024, bodyTimeoutMs: 500 });
  });
  afterAll(async () => proxy?.close());

  it("leaves its connection open for the next request after the deadline has passed", async () => {
    const socket = net.connect(portOf(proxy), "127.0.0.1");
    const received: Buffer[] = [];
    let closed = false;
    socket.on("data", (bytes: Buffer) => received.push(bytes));
    socket.on("close", () => {
      closed = true;
    });
    socket.on("error", () => undefined);
    try {
      await once(socket, "connect");
      // Over the 64 KB limit: answered 413 before it is read, and the rest is read and dropped. Sent whole at once, so the
      // drain ends long before the 500 ms deadline, and the connection (kept alive for the drain) stays usable.
      const body = "x".repeat(100 * 1024);
      socket.write(httpRequest("POST", "/v1/chat/completions", [json, ["Content-Length", String(body.length)]], body));
      const text = () => Buffer.concat(received).toString("latin1");
      await until("the 413", () => text().includes("request_too_large"));
      expect(text()).toMatch(/^HTTP\/1\.1 413 /);
      // The deadline of the first body passes (it is what is under test, so this waits for it), then a second
      // request on the same connection is answered: the drained body's deadline must not close it.
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(closed, "the connection was closed by the drained body's deadline").toBe(false);
      received.length = 0;
      socket.write(httpRequest("GET", "/health", []));
      await until("the second answer", () => text().includes("\r\n\r\n") || closed);
      expect(text()).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      socket.destroy();
    }
  });
});

describe("max_body_mb_in_flight", () => {
  const MB = 1024 * 1024;
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startTestProxy({ maxBodyBytesInFlight: 1 * MB, bodyTimeoutMs: 20_000 });
  });
  afterAll(async () => proxy?.close());

  it("answers 503 server_busy with Retry-After past the bound while a body is in flight, then serves again", async () => {
    const port = portOf(proxy);
    // A: 800 KB announced; only its first bytes are sent, so it holds its 800 KB while the others come.
    const big = chatOfSize(800 * 1024);
    const held = startRawRequest(
      port,
      httpRequest(
        "POST",
        "/v1/chat/completions",
        [json, ["Content-Length", String(big.length)], close],
        big.slice(0, 1024),
      ),
      { timeoutMs: 30_000 },
    );
    const tooMuch = httpRequest(
      "POST",
      "/v1/chat/completions",
      [json, ["Content-Length", String(400 * 1024)], close, ["x-request-id", "busy-1"]],
      chatOfSize(400 * 1024),
    );

    // B: 400 KB more would pass 1 MB. A's headers reach the server first; poll (bounded) until they did.
    let busy = await rawRequest(port, tooMuch, { timeoutMs: 5_000 });
    await until(
      () => `503 for B (last answer ${busy.status}: ${busy.body.slice(0, 200)})`,
      async () => busy.status === 503 || (busy = await rawRequest(port, tooMuch, { timeoutMs: 5_000 })).status === 503,
      { timeoutMs: 5_000, everyMs: 1 },
    );
    expect(busy.status, busy.body.slice(0, 200)).toBe(503);
    expect(errorShapeProblem("/v1/chat/completions", busy)).toBeNull();
    expect(errorOf(busy).code).toBe("server_busy");
    expect(busy.headers["retry-after"]).toBe("1");
    expect(busy.headers["x-request-id"]).toBe("busy-1");

    // C: a chunked body, counted as it arrives, is refused once it passes the bound.
    const chunk = chatOfSize(300 * 1024).slice(0, 300 * 1024);
    const chunked = await rawRequest(
      port,
      httpRequest(
        "POST",
        "/v1/chat/completions",
        [json, ["Transfer-Encoding", "chunked"], close],
        `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
      ),
      { timeoutMs: 5_000 },
    );
    expect(chunked.status, chunked.body.slice(0, 200)).toBe(503);
    expect(errorOf(chunked).code).toBe("server_busy");

    // Small requests still fit beside A.
    expect((await chat(proxy, chatBody("echo"))).status).toBe(200);

    // A completes and is answered; its bytes are given back, and B is served.
    held.write(big.slice(1024));
    const first = await held.answer;
    expect(first.status, first.body.slice(0, 200)).toBe(200);
    const again = await rawRequest(port, tooMuch, { timeoutMs: 10_000 });
    expect(again.status, again.body.slice(0, 200)).toBe(200);
  });

  it("always admits a body when no other is in flight, even one larger than the bound", async () => {
    const answer = await rawRequest(
      portOf(proxy),
      httpRequest(
        "POST",
        "/v1/chat/completions",
        [json, ["Content-Length", String(1.5 * MB)], close],
        chatOfSize(1.5 * MB),
      ),
      { timeoutMs: 10_000 },
    );
    expect(answer.status, answer.body.slice(0, 200)).toBe(200);
  });

  it("gives the bytes of a client that went away mid-body back", async () => {
    const port = portOf(proxy);
    const big = chatOfSize(900 * 1024);
    const gone = startRawRequest(
      port,
      httpRequest(
        "POST",
        "/v1/chat/completions",
        [json, ["Content-Length", String(big.length)], close],
        big.slice(0, 1024),
      ),
      { timeoutMs: 5_000 },
    );
    const probe = httpRequest(
      "POST",
      "/v1/chat/completions",
      [json, ["Content-Length", String(400 * 1024)], close],
      chatOfSize(400 * 1024),
    );
    let busy = await rawRequest(port, probe, { timeoutMs: 5_000 });
    await until(
      () => `503 for the probe (last answer ${busy.status})`,
      async () => busy.status === 503 || (busy = await rawRequest(port, probe, { timeoutMs: 5_000 })).status === 503,
      { timeoutMs: 5_000, everyMs: 1 },
    );
    expect(busy.status).toBe(503);
    gone.end();
    await gone.answer;
    // Once the server saw the close, the 900 KB are released: poll (bounded) until the probe is served.
    let served = await rawRequest(port, probe, { timeoutMs: 5_000 });
    await until(
      () => `the probe served (last answer ${served.status}: ${served.body.slice(0, 200)})`,
      async () =>
        served.status === 200 || (served = await rawRequest(port, probe, { timeoutMs: 5_000 })).status === 200,
      { timeoutMs: 5_000, everyMs: 1 },
    );
    expect(served.status, served.body.slice(0, 200)).toBe(200);
  });
});
