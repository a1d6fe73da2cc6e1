/**
 * An OpenAI-compatible upstream's stream passed through the proxy gets the
 * same treatment whatever the whitespace of its JSON: compact as
 * llama-server writes it (`"content":"Hi"`), spaced as KoboldCpp and Python
 * servers write it (`"content": "Hi"`, ../shared/fixtures/protocols/
 * koboldcpp.txt), or loose (a space before the colon too, tabs). For each:
 * `ttft_ms` is recorded, the usage-only chunk the client did not ask for is
 * dropped, an in-band error event ends the stream as truncated with the
 * upstream's message, and a finish_reason without `[DONE]` still counts as
 * finished. The upstream is a real HTTP server on 127.0.0.1 writing the
 * whole scripted body at once.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { listenOnLoopback, type Listening } from "../helpers/loopback-server.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { readSse } from "../helpers/sse.js";
import { match } from "../helpers/matchers.js";

/** The body the upstream writes for the next request. */
let body = "";
let upstream: Listening;
let proxy: TestProxy;

beforeAll(async () => {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(body);
    });
  });
  upstream = await listenOnLoopback(server);
  proxy = await startTestProxy({ models: { up: fakeDeployment(`http://127.0.0.1:${upstream.port}/v1`) } });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

type Style = (value: unknown) => string;
const STYLES: Record<string, Style> = {
  compact: (value) => JSON.stringify(value),
  // Python's json.dumps default separators (", ", ": "), as KoboldCpp writes.
  spaced: (value) => JSON.stringify(value).replace(/":/g, '": ').replace(/,"/g, ', "'),
  // A space before the colon and a tab after it.
  loose: (value) => JSON.stringify(value).replace(/":/g, '" :\t').replace(/,"/g, ', "'),
};

const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: "c1",
  object: "chat.completion.chunk",
  created: 1,
  model: "m",
  choices: [{ index: 0, finish_reason: finish, delta }],
});
const usage = {
  id: "c1",
  object: "chat.completion.chunk",
  created: 1,
  model: "m",
  choices: [],
  usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 },
};

async function stream(requestId: string): Promise<Response> {
  return fetch(`${proxy.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": requestId },
    body: JSON.stringify({ model: "up", messages: [{ role: "user", content: "hi" }], stream: true }),
  });
}

interface Recorded {
  response: string;
  status: string;
  ttft_ms: number | null;
  error: string | null;
  input_tokens: number | null;
}

async function record(requestId: string): Promise<Recorded> {
  await proxy.server.ctx.recorder.flush();
  const [row] = rows<Recorded>(
    proxy.dbPath,
    "select r.response, x.status, x.ttft_ms, x.error, r.input_tokens from responses r join llm_relay_exchanges x on x.response_id = r.id where x.request_id = ?",
    requestId,
  );
  expect(row, `no record for ${requestId}`).toBeDefined();
  return row!;
}

describe.each(Object.entries(STYLES))("a pass-through stream with %s JSON", (name, style) => {
  const event = (value: unknown) => `data: ${style(value)}\n\n`;

  it("records ttft_ms and drops the usage-only chunk the client did not ask for", async () => {
    const role = event(chunk({ role: "assistant", content: null }));
    const empty = event(chunk({ content: "" }));
    const hi = event(chunk({ content: "Hi" }));
    const end = event(chunk({ content: " there" }, "stop"));
    body = role + empty + hi + end + event(usage) + "data: [DONE]\n\n";
    const response = await stream(`ttft-${name}`);
    expect(await response.text()).toBe(role + empty + hi + end + "data: [DONE]\n\n");
    const row = await record(`ttft-${name}`);
    expect(row).toMatchObject({ response: "Hi there", status: "ok", input_tokens: 7 });
    expect(row.ttft_ms).not.toBeNull();
    expect(row.ttft_ms).toBeGreaterThanOrEqual(0);
  });

  it("ends on an in-band error event with the upstream's message, recorded as truncated", async () => {
    body =
      event(chunk({ content: "Partial" })) +
      event({ error: { message: "the model crashed", type: "server_error" } }) +
      event(chunk({ content: "never sent" }));
    const events = await readSse(await stream(`error-${name}`));
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[0]!)).toMatchObject({ choices: [{ delta: { content: "Partial" } }] });
    expect(JSON.parse(events[1]!)).toMatchObject({ error: { message: match.stringContaining("the model crashed") } });
    const row = await record(`error-${name}`);
    expect(row).toMatchObject({ response: "Partial", status: "truncated" });
    expect(row.error).toContain("the model crashed");
  });

  it("counts a finish_reason without [DONE] as finished", async () => {
    body = event(chunk({ content: "Done" })) + event(chunk({}, "stop"));
    const events = await readSse(await stream(`finish-${name}`));
    expect(events.at(-1)).toBe("[DONE]");
    expect(await record(`finish-${name}`)).toMatchObject({ response: "Done", status: "ok" });
  });
});
