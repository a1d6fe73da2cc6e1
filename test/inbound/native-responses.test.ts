/**
 * OpenAI Responses clients (`POST /v1/responses`) on deployments whose
 * upstream speaks Responses natively: an `openai-compatible` deployment
 * that lists `responses` in `protocols` (here answering with llama-server
 * 2026-09's real answers, ../shared/fixtures/protocols/llama-server-2026-09.txt),
 * and a `llamacpp` one that opts in. The request arrives upstream as the
 * client's own bytes with the deployment's key as Bearer; the answer comes
 * back byte for byte; the record reads it (text, usage with cached tokens,
 * `protocol = 'responses'`, TTFT). Without `protocols`, an
 * `openai-compatible` deployment speaks chat only: the request is
 * translated. A stream cut midway ends with the protocol's failure event
 * and is recorded `truncated`. Real HTTP on loopback.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentDefaults } from "../../src/config/schema.js";
import { rows } from "../helpers/db.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";
import { llamaServerCapture, startNativeUpstream, type NativeUpstream } from "./helpers/native-upstream.js";

let upstream: NativeUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  upstream = await startNativeUpstream();
  proxy = await startTestProxy(
    {
      models: {
        "stories260K.gguf": fakeDeployment(`${upstream.url}/v1`, {
          protocols: ["chat", "responses"],
          api_key_env: "UP_KEY",
        }),
        "chat-only": fakeDeployment(`${upstream.url}/v1`, { model: "stories260K.gguf" }),
        "llama-native": {
          ...deploymentDefaults("llamacpp"),
          base_url: upstream.url,
          model: "stories260K.gguf",
          protocols: ["chat", "messages", "responses"],
          timeout_ms: 2_000,
          connect_timeout_ms: 1_000,
        },
      },
    },
    { env: { UP_KEY: "sk-upstream" } },
  );
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

function rawRequest(model: string, stream: boolean): string {
  return `{"model": "${model}", "input": "Once upon a time", "max_output_tokens": 8, "stream": ${stream}, "store": false}`;
}

async function post(body: string, requestId: string) {
  const response = await fetch(`${proxy.url}/v1/responses`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": requestId },
    body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

interface ExchangeRow {
  response: string;
  input_tokens: number;
  output_tokens: number;
  token_details: string | null;
  status: string;
  protocol: string | null;
  ttft_ms: number | null;
}

async function recorded(requestId: string): Promise<ExchangeRow> {
  const query = () =>
    rows<ExchangeRow>(
      proxy.dbPath,
      `SELECT r.response, r.input_tokens, r.output_tokens, r.token_details, e.status, e.protocol, e.ttft_ms
         FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id WHERE e.request_id = ?`,
      requestId,
    );
  await until(`the record of ${requestId}`, () => query().length === 1);
  return query()[0]!;
}

describe("native Responses pass-through", () => {
  it("passes a non-streamed request and llama-server's answer through byte for byte", async () => {
    const body = llamaServerCapture("POST /v1/responses (non-stream)");
    upstream.queue({ kind: "json", body });
    const sent = rawRequest("stories260K.gguf", false);
    const answer = await post(sent, "resp-json-1");
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(body);
    const received = upstream.requests.at(-1)!;
    expect(received.path).toBe("/v1/responses");
    expect(received.raw.toString("utf8")).toBe(sent);
    expect(received.headers.authorization).toBe("Bearer sk-upstream");
    const row = await recorded("resp-json-1");
    expect(row).toMatchObject({ status: "ok", protocol: "responses", response: '"Here?" A' });
    expect([row.input_tokens, row.output_tokens]).toEqual([46, 8]);
    expect(JSON.parse(row.token_details ?? "null")).toEqual({ prompt_tokens_details: { cached_tokens: 45 } });
  });

  it("streams llama-server's real Responses stream byte for byte and records it", async () => {
    const sse = llamaServerCapture("POST /v1/responses (stream)");
    upstream.queue({ kind: "sse", text: sse });
    const answer = await post(rawRequest("stories260K.gguf", true), "resp-sse-1");
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(sse);
    const row = await recorded("resp-sse-1");
    expect(row).toMatchObject({ status: "ok", protocol: "responses", response: '"He' });
    expect([row.input_tokens, row.output_tokens]).toEqual([46, 3]);
    expect(JSON.parse(row.token_details ?? "null")).toEqual({ prompt_tokens_details: { cached_tokens: 45 } });
    expect(row.ttft_ms).toBeGreaterThan(0);
  });

  it("ends a stream cut before response.completed with the protocol's failure event, recorded truncated", async () => {
    const sse = llamaServerCapture("POST /v1/responses (stream)");
    upstream.queue({ kind: "sse", text: sse, cutAfterEvents: 6 });
    const answer = await post(rawRequest("stories260K.gguf", true), "resp-cut-1");
    const firstSix = sse
      .split(/(?<=\n\n)/)
      .slice(0, 6)
      .join("");
    expect(answer.text.startsWith(firstSix)).toBe(true);
    // Only the failure follows the upstream's own events (they already opened the response).
    expect(answer.text.slice(firstSix.length)).toMatch(
      /^event: error\ndata: \{"type":"error","code":"upstream_unreachable","message":"[^"]+","param":null\}\n\n$/,
    );
    const row = await recorded("resp-cut-1");
    expect(row).toMatchObject({ status: "truncated", protocol: "responses", response: '"H' });
  });

  it("answers a 2xx stream that is not a Responses stream with 502 upstream_invalid_response", async () => {
    upstream.queue({ kind: "sse", text: 'data: {"object":"chat.completion.chunk","choices":[]}\n\ndata: [DONE]\n\n' });
    const answer = await post(rawRequest("stories260K.gguf", true), "resp-bad-1");
    expect(answer.status).toBe(502);
    expect(answer.text).toContain("upstream_invalid_response");
  });

  it("translates to chat on an openai-compatible deployment that does not list responses", async () => {
    const completion = llamaServerCapture("POST /v1/chat/completions (non-stream)");
    upstream.queue({ kind: "json", body: completion });
    const answer = await post(rawRequest("chat-only", false), "resp-chat-1");
    expect(answer.status).toBe(200);
    expect(upstream.requests.at(-1)!.path).toBe("/v1/chat/completions");
    const row = await recorded("resp-chat-1");
    expect(row).toMatchObject({ status: "ok", protocol: "responses", response: '"Here?" A' });
  });

  it("reaches llama-server's own /v1/responses from a llamacpp deployment that lists it", async () => {
    const body = llamaServerCapture("POST /v1/responses (non-stream)");
    upstream.queue({ kind: "json", body });
    const answer = await post(rawRequest("llama-native", false), "resp-llama-1");
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(body);
    const received = upstream.requests.at(-1)!;
    expect(received.path).toBe("/v1/responses");
    expect(JSON.parse(received.raw.toString("utf8"))).toMatchObject({ model: "stories260K.gguf" });
  });

  it("serves the openai SDK's responses.create, streamed and not", async () => {
    const client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
    upstream.queue({ kind: "json", body: llamaServerCapture("POST /v1/responses (non-stream)") });
    const response = await client.responses.create({ model: "stories260K.gguf", input: "Once upon a time" });
    expect(response.output_text).toBe('"Here?" A');
    expect(response.usage?.input_tokens_details.cached_tokens).toBe(45);
    const sse = llamaServerCapture("POST /v1/responses (stream)");
    upstream.queue({ kind: "sse", text: sse });
    const stream = await client.responses.create({
      model: "stories260K.gguf",
      input: "Once upon a time",
      stream: true,
    });
    const types: string[] = [];
    let text = "";
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
    }
    expect(types).toEqual([...sse.matchAll(/^event: (\S+)$/gm)].map((match) => match[1]));
    expect(text).toBe('"He');
  });
});
