/**
 * The request body goes to an OpenAI-compatible upstream as the client
 * sent it — its bytes, not a re-serialisation — when nothing in it has to
 * change; `stream_options.include_usage` is spliced in for a stream that
 * lacks it; a body that does need a change (another upstream model, a
 * `stream_options` without `include_usage`) is serialised with the change.
 * The upstream is a real HTTP server on 127.0.0.1 that keeps the bytes it
 * received.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOnLoopback, type Listening } from "../helpers/loopback-server.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";

const received: string[] = [];
let upstream: Listening;
let proxy: TestProxy;

const completion = JSON.stringify({
  id: "c1",
  object: "chat.completion",
  created: 1,
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});
const chunks = [
  {
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta: { content: "ok" }, finish_reason: "stop" }],
  },
  {
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  },
];

beforeAll(async () => {
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (part: Buffer) => parts.push(part));
    req.on("end", () => {
      const text = Buffer.concat(parts).toString("utf8");
      received.push(text);
      if ((JSON.parse(text) as { stream?: boolean }).stream) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end(`${chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("")}data: [DONE]\n\n`);
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(completion);
      }
    });
  });
  upstream = await listenOnLoopback(server);
  const baseUrl = `http://127.0.0.1:${upstream.port}/v1`;
  proxy = await startTestProxy({
    models: { same: fakeDeployment(baseUrl), renamed: fakeDeployment(baseUrl, { model: "the-upstream-name" }) },
  });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

/** Posts `text` as is and returns what the upstream received. */
async function forwarded(text: string): Promise<string> {
  const before = received.length;
  const response = await fetch(`${proxy.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: text,
  });
  expect(response.status).toBe(200);
  await response.text();
  expect(received.length).toBe(before + 1);
  return received.at(-1)!;
}

describe("the request body upstream", () => {
  it("is the client's bytes, unchanged, when the upstream model is the one named (spacing, key order, escapes and unknown fields kept)", async () => {
    const text =
      '{ "messages" : [ {"role":"user","content":"caf\\u00e9 \\"quoted\\""} ],\n  "x_vendor": {"keep": [1, 2.50]}, "model":"same" }';
    expect(await forwarded(text)).toBe(text);
  });

  it("gets include_usage spliced in for a stream that has no stream_options, and nothing else changes", async () => {
    const text = '{"model":"same","stream":true,"messages":[{"role":"user","content":"hi"}],"temperature":0.70}';
    const sent = await forwarded(text);
    expect(sent).toBe(
      '{"model":"same","stream":true,"messages":[{"role":"user","content":"hi"}],"temperature":0.70,"stream_options":{"include_usage":true}}',
    );
  });

  it("is the client's bytes for a stream that already asks for usage", async () => {
    const text =
      '{"model":"same","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}';
    expect(await forwarded(text)).toBe(text);
  });

  it("is serialised again, with the change, when the model is renamed or stream_options lacks include_usage", async () => {
    const renamed = JSON.parse(
      await forwarded('{"model":"renamed","messages":[{"role":"user","content":"hi"}],"x_vendor":1}'),
    ) as Record<string, unknown>;
    expect(renamed).toEqual({ model: "the-upstream-name", messages: [{ role: "user", content: "hi" }], x_vendor: 1 });
    const options = JSON.parse(
      await forwarded(
        '{"model":"same","stream":true,"stream_options":{"include_usage":false,"x":1},"messages":[{"role":"user","content":"hi"}]}',
      ),
    ) as Record<string, unknown>;
    expect(options["stream_options"]).toEqual({ include_usage: true, x: 1 });
  });
});
