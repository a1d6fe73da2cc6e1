/**
 * Anthropic Messages clients (`POST /v1/messages`) on a deployment whose
 * upstream speaks Messages natively (`anthropic`, by its module's default):
 * the request arrives upstream as the client's own bytes (only `model`
 * renamed when the route renames it), with `anthropic-version` and
 * `anthropic-beta` forwarded and the deployment's key as `x-api-key`; the
 * answer comes back byte for byte, JSON and stream; the record reads it
 * (text, tool use, cache tokens in `token_details`, `protocol = 'messages'`,
 * TTFT). Upstream errors are retried like any; a stream that fails midway
 * ends with the protocol's error event and is recorded `truncated`. A model
 * with a native deployment and a chat one answers the same client through
 * both. Real HTTP on loopback: a scripted upstream (./helpers/native-upstream.ts).
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ROUTING, deploymentDefaults } from "../../src/config/schema.js";
import { rows } from "../helpers/db.js";
import { anthropicFixture } from "../helpers/fake-anthropic-upstream.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";
import { group } from "../server/resilience-helpers.js";
import { startNativeUpstream, type NativeUpstream } from "./helpers/native-upstream.js";

let upstream: NativeUpstream;
let proxy: TestProxy;

const anthropic = (model: string, extra: Record<string, unknown> = {}) => ({
  ...deploymentDefaults("anthropic"),
  base_url: upstream.url,
  api_key_env: "UP_KEY",
  model,
  timeout_ms: 2_000,
  connect_timeout_ms: 1_000,
  ...extra,
});

beforeAll(async () => {
  upstream = await startNativeUpstream();
  proxy = await startTestProxy(
    {
      models: {
        "claude-same": anthropic("claude-same"),
        "claude-alias": anthropic("claude-upstream-name"),
        "claude-retry": group("claude-retry", [anthropic("claude-retry")], { numRetries: 1 }),
        // mixed#1 speaks Messages natively; mixed#2 (echo) gets the chat translation.
        mixed: group("mixed", [anthropic("mixed"), deploymentDefaults("echo")]),
      },
      routing: { ...DEFAULT_ROUTING, retry_base_ms: 1 },
    },
    { env: { UP_KEY: "sk-upstream" } },
  );
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

/** The client's request as raw text, spaced unlike JSON.stringify so that a re-serialisation would show. */
function rawRequest(model: string, stream: boolean): string {
  return `{ "model": "${model}",  "max_tokens": 64, "stream": ${stream},
  "messages": [ { "role": "user", "content": "What's the weather in San Francisco?" } ],
  "metadata": { "user_id": "u-1" } }`;
}

async function post(body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${proxy.url}/v1/messages`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "anthropic-version": "2023-06-01",
      "anthropic-beta": "prompt-caching-2024-07-31",
      ...headers,
    },
    body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

interface ExchangeRow {
  id: string;
  response: string;
  input_tokens: number;
  output_tokens: number;
  token_details: string | null;
  prompt_json: string;
  status: string;
  protocol: string | null;
  ttft_ms: number | null;
  finish_reason: string | null;
  deployment: string;
  attempts: number;
}

/** The recorded exchange of a request, once written. */
async function recorded(requestId: string): Promise<ExchangeRow> {
  const query = () =>
    rows<ExchangeRow>(
      proxy.dbPath,
      `SELECT r.id, r.response, r.input_tokens, r.output_tokens, r.token_details, r.prompt_json, e.status, e.protocol,
              e.ttft_ms, e.finish_reason, e.deployment, e.attempts
         FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id WHERE e.request_id = ?`,
      requestId,
    );
  await until(`the record of ${requestId}`, () => query().length === 1);
  return query()[0]!;
}

describe("native Messages pass-through", () => {
  it("sends the client's bytes with its headers and answers with the upstream's bytes", async () => {
    const body = anthropicFixture("message-text.json");
    upstream.queue({ kind: "json", body });
    const sent = rawRequest("claude-same", false);
    const answer = await post(sent, { "x-request-id": "msg-json-1" });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(body);
    const received = upstream.requests.at(-1)!;
    expect(received.path).toBe("/v1/messages");
    expect(received.raw.toString("utf8")).toBe(sent);
    expect(received.headers["x-api-key"]).toBe("sk-upstream");
    expect(received.headers["anthropic-version"]).toBe("2023-06-01");
    expect(received.headers["anthropic-beta"]).toBe("prompt-caching-2024-07-31");
    const row = await recorded("msg-json-1");
    expect(row.status).toBe("ok");
    expect(row.protocol).toBe("messages");
    expect(row.response).toBe(
      "Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I can help you with?",
    );
    expect([row.input_tokens, row.output_tokens]).toEqual([12, 30]);
    expect(JSON.parse(row.prompt_json)).toEqual(JSON.parse(sent));
  });

  it("renames only the model when the route names another upstream model", async () => {
    upstream.queue({ kind: "json", body: anthropicFixture("message-text.json") });
    const sent = rawRequest("claude-alias", false);
    const answer = await post(sent);
    expect(answer.status).toBe(200);
    const forwarded = JSON.parse(upstream.requests.at(-1)!.raw.toString("utf8")) as Record<string, unknown>;
    expect(forwarded).toEqual({ ...(JSON.parse(sent) as Record<string, unknown>), model: "claude-upstream-name" });
  });

  it("streams the upstream's events byte for byte and records the tool use and cache tokens", async () => {
    const sse = anthropicFixture("stream-tool-use.sse")
      .replace('"cache_read_input_tokens":0', '"cache_read_input_tokens":100')
      .replace('"cache_creation_input_tokens":0', '"cache_creation_input_tokens":20');
    upstream.queue({ kind: "sse", text: sse });
    const answer = await post(rawRequest("claude-same", true), { "x-request-id": "msg-sse-1" });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/text\/event-stream/);
    expect(answer.text).toBe(sse);
    expect(upstream.requests.at(-1)!.headers.accept).toBe("text/event-stream");
    const row = await recorded("msg-sse-1");
    expect(row.status).toBe("ok");
    expect(row.protocol).toBe("messages");
    expect(row.finish_reason).toBe("tool_calls");
    expect(row.ttft_ms).toBeGreaterThan(0);
    expect(row.response).toBe("I'll check the current weather in San Francisco for you.");
    expect(row.input_tokens).toBe(384 + 100 + 20);
    expect(JSON.parse(row.token_details ?? "null")).toMatchObject({
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 20,
    });
    const calls = rows<{ name: string; arguments: string }>(
      proxy.dbPath,
      "SELECT name, arguments FROM tool_calls WHERE response_id = ?",
      row.id,
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]!.name).toBe("get_weather");
    expect(JSON.parse(calls[0]!.arguments)).toEqual({ location: "San Francisco, CA", unit: "celsius" });
  });

  it("retries an upstream 429 like any attempt: one answer, two attempts", async () => {
    const errorBody = JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "slow down" } });
    const body = anthropicFixture("message-text.json");
    upstream.queue(
      { kind: "json", status: 429, body: errorBody, headers: { "retry-after": "0" } },
      { kind: "json", body },
    );
    const before = upstream.requests.length;
    const answer = await post(rawRequest("claude-retry", false), { "x-request-id": "msg-retry-1" });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(body);
    expect(upstream.requests.length - before).toBe(2);
    expect(answer.headers.get("x-llm-relay-attempts")).toBe("2");
    const row = await recorded("msg-retry-1");
    expect([row.status, row.attempts]).toEqual(["ok", 2]);
  });

  it("answers an upstream 2xx that is not a message with 502 upstream_invalid_response", async () => {
    upstream.queue({ kind: "json", body: '{"object":"chat.completion","choices":[]}' });
    const answer = await post(rawRequest("claude-same", false));
    expect(answer.status).toBe(502);
    expect(answer.text).toContain("not an Anthropic message");
  });

  it("ends a stream cut by the upstream with the protocol's error event and records it truncated", async () => {
    const sse = anthropicFixture("stream-text.sse");
    upstream.queue({ kind: "sse", text: sse, cutAfterEvents: 4 });
    const answer = await post(rawRequest("claude-same", true), { "x-request-id": "msg-cut-1" });
    expect(answer.status).toBe(200);
    const firstFour = sse
      .split(/(?<=\n\n)/)
      .slice(0, 4)
      .join("");
    expect(answer.text.startsWith(firstFour)).toBe(true);
    const rest = answer.text.slice(firstFour.length);
    expect(rest).toMatch(/^event: error\ndata: \{"type":"error","error":\{"type":"[a-z_]+","message":"[^"]+"\}\}\n\n$/);
    const row = await recorded("msg-cut-1");
    expect(row.status).toBe("truncated");
    expect(row.protocol).toBe("messages");
  });

  it("relays the events before an in-band error event, then ends with the error", async () => {
    const events = anthropicFixture("stream-text.sse")
      .split(/(?<=\n\n)/)
      .slice(0, 4)
      .join("");
    const overloaded = `event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n`;
    upstream.queue({ kind: "sse", text: events + overloaded });
    const answer = await post(rawRequest("claude-same", true), { "x-request-id": "msg-inband-1" });
    expect(answer.text.startsWith(events)).toBe(true);
    expect(answer.text.slice(events.length)).toMatch(/^event: error\n.*overloaded_error.*Overloaded/);
    const row = await recorded("msg-inband-1");
    expect(row.status).toBe("truncated");
  });

  it("answers one client through a native deployment and a chat deployment of the same model", async () => {
    const body = anthropicFixture("message-text.json");
    const seen = new Map<string, number>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      upstream.queue({ kind: "json", body });
      const answer = await post(rawRequest("mixed", false));
      expect(answer.status).toBe(200);
      const deployment = answer.headers.get("x-llm-relay-deployment") ?? "";
      seen.set(deployment, (seen.get(deployment) ?? 0) + 1);
      if (deployment === "mixed#1") expect(answer.text).toBe(body);
      else {
        expect(deployment).toBe("mixed#2");
        expect(answer.text).not.toBe(body);
        // The chat deployment's turn left its queued answer unused: take it back.
        upstream.dequeueAll();
      }
    }
    expect([...seen.keys()].sort()).toEqual(["mixed#1", "mixed#2"]);
  });

  it("serves @anthropic-ai/sdk's messages.stream: its helper rebuilds the text and the tool use", async () => {
    upstream.queue({ kind: "sse", text: anthropicFixture("stream-tool-use.sse") });
    const client = new Anthropic({ baseURL: proxy.url, apiKey: "unused", maxRetries: 0 });
    const stream = client.messages.stream({
      model: "claude-same",
      max_tokens: 64,
      messages: [{ role: "user", content: "What's the weather in San Francisco?" }],
    });
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content.map((block) => block.type)).toEqual(["text", "tool_use"]);
    const toolUse = message.content[1] as Anthropic.ToolUseBlock;
    expect(toolUse.name).toBe("get_weather");
    expect(toolUse.input).toEqual({ location: "San Francisco, CA", unit: "celsius" });
    // The SDK's own API version goes upstream, not the provider's default.
    expect(upstream.requests.at(-1)!.headers["anthropic-version"]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
