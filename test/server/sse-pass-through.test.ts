/**
 * A stream from an OpenAI-compatible upstream is forwarded as the SSE
 * text the upstream sent, cut at event boundaries whatever the reads
 * look like: events and UTF-8 characters split across reads, CRLF line
 * ends, comments and `event:`/`id:` fields, an in-band error in the same
 * read as the content before it, bytes after `[DONE]`. The record reads
 * the same text. The upstream is a real HTTP server on 127.0.0.1 writing
 * scripted byte pieces with pauses between them, so that the proxy sees
 * them in separate reads.
 */
import { once } from "node:events";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { handled } from "../helpers/async-handler.js";
import { listenOnLoopback, type Listening } from "../helpers/loopback-server.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { readSse } from "../helpers/sse.js";
import { match } from "../helpers/matchers.js";

/** What the upstream writes for the next request: pieces of the body, each written after a pause. */
let script: (string | Buffer)[] = [];
let upstream: Listening;
let proxy: TestProxy;

beforeAll(async () => {
  const server = http.createServer(
    handled(async (req, res) => {
      req.resume();
      await once(req, "end");
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const piece of script) {
        res.write(piece);
        await sleep(15);
      }
      res.end();
    }),
  );
  upstream = await listenOnLoopback(server);
  proxy = await startTestProxy({ models: { up: fakeDeployment(`http://127.0.0.1:${upstream.port}/v1`) } });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

const chunk = (content: string, finish: string | null = null) =>
  JSON.stringify({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  });
const usageChunk = JSON.stringify({
  id: "c1",
  object: "chat.completion.chunk",
  created: 1,
  model: "m",
  choices: [],
  usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
});

async function stream(requestId: string, includeUsage = true): Promise<Response> {
  return fetch(`${proxy.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": requestId },
    body: JSON.stringify({
      model: "up",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
    }),
  });
}

async function record(
  requestId: string,
): Promise<{ response: string; status: string; input_tokens: number | null; output_tokens: number | null }> {
  await proxy.server.ctx.recorder.flush();
  const [row] = rows<{ response: string; status: string; input_tokens: number | null; output_tokens: number | null }>(
    proxy.dbPath,
    "select r.response, x.status, r.input_tokens, r.output_tokens from responses r join llm_relay_exchanges x on x.response_id = r.id where x.request_id = ?",
    requestId,
  );
  expect(row, `no record for ${requestId}`).toBeDefined();
  return row!;
}

describe("SSE pass-through from an openai-compatible upstream", () => {
  it("forwards events and UTF-8 characters split across reads intact, byte for byte", async () => {
    const body = `data: ${chunk("Grüße, ")}\n\ndata: ${chunk("naïve 🦊")}\n\ndata: ${chunk("", "stop")}\n\ndata: ${usageChunk}\n\ndata: [DONE]\n\n`;
    const bytes = Buffer.from(body);
    const fox = bytes.indexOf(Buffer.from("🦊"));
    const secondEvent = body.indexOf("data:", 5);
    // Cuts: inside the first event's JSON, right after its first "\n" (blank line split), inside the 4-byte fox.
    const cuts = [20, Buffer.byteLength(body.slice(0, secondEvent - 1)), fox + 2, bytes.length];
    script = [];
    for (let i = 0, from = 0; i < cuts.length; from = cuts[i]!, i++) script.push(bytes.subarray(from, cuts[i]));

    const response = await stream("sse-split");
    expect(await response.text()).toBe(body);
    const row = await record("sse-split");
    expect(row).toMatchObject({ response: "Grüße, naïve 🦊", status: "ok", input_tokens: 7, output_tokens: 3 });
  });

  it("forwards CRLF line ends, comments and event/id fields unchanged, and the record still reads the content", async () => {
    const body = `: keep-alive\r\n\r\nid: 1\r\nevent: message\r\ndata: ${chunk("Hello")}\r\n\r\ndata: ${chunk(" there", "stop")}\r\n\r\ndata: ${usageChunk}\r\n\r\n`;
    script = [body.slice(0, 30), body.slice(30), "data: [DONE]\r\n\r\n"];
    const response = await stream("sse-crlf");
    expect(await response.text()).toBe(`${body}data: [DONE]\n\n`);
    expect(await record("sse-crlf")).toMatchObject({
      response: "Hello there",
      status: "ok",
      input_tokens: 7,
      output_tokens: 3,
    });
  });

  it("drops only the usage-only event it asked for itself, even inside a larger read", async () => {
    script = [`data: ${chunk("One")}\n\ndata: ${chunk(" two", "stop")}\n\ndata: ${usageChunk}\n\ndata: [DONE]\n\n`];
    const response = await stream("sse-usage", false);
    expect(await response.text()).toBe(`data: ${chunk("One")}\n\ndata: ${chunk(" two", "stop")}\n\ndata: [DONE]\n\n`);
    expect(await record("sse-usage")).toMatchObject({ response: "One two", input_tokens: 7, output_tokens: 3 });
  });

  it("an error event in the same read as content: the content, then the in-band error, no [DONE]; recorded as truncated", async () => {
    const error = JSON.stringify({ error: { message: "the model crashed", type: "server_error" } });
    script = [`data: ${chunk("Partial")}\n\ndata: ${error}\n\ndata: ${chunk("never sent")}\n\n`];
    const response = await stream("sse-error");
    const events = await readSse(response);
    expect(events[0]).toBe(chunk("Partial"));
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[1]!)).toMatchObject({ error: { message: match.stringContaining("the model crashed") } });
    expect(await record("sse-error")).toMatchObject({ response: "Partial", status: "truncated" });
  });

  it("forwards nothing the upstream sends after [DONE]", async () => {
    script = [`data: ${chunk("Done", "stop")}\n\ndata: [DONE]\n\ndata: ${chunk("after the end")}\n\n`];
    const response = await stream("sse-after-done");
    expect(await response.text()).toBe(`data: ${chunk("Done", "stop")}\n\ndata: [DONE]\n\n`);
    expect(await record("sse-after-done")).toMatchObject({ response: "Done", status: "ok" });
  });

  it("a last event without its blank line is still forwarded as an event, and a stream that never finishes is truncated", async () => {
    script = [`data: ${chunk("Cut")}\n\ndata: ${chunk(" off")}`];
    const response = await stream("sse-unfinished");
    const events = await readSse(response);
    expect(events.slice(0, 2)).toEqual([chunk("Cut"), chunk(" off")]);
    expect(JSON.parse(events[2]!)).toMatchObject({ error: { code: "upstream_truncated" } });
    expect(await record("sse-unfinished")).toMatchObject({ response: "Cut off", status: "truncated" });
  });
});
