/**
 * Small client-side helpers for server tests: raw HTTP calls to the proxy
 * with `fetch`, the OpenAI error-body shape, the recorded exchanges
 * (`responses` joined with `llm_relay_exchanges`) and a closed port.
 */
import net from "node:net";
import { expect } from "vitest";
import { rows } from "./db.js";
import type { TestProxy } from "./proxy.js";

/** An HTTP answer read to the end. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** Sends `body` (an object is JSON-encoded, a string is sent as is) and reads the whole answer. */
export async function send(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const body =
    init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body);
  const response = await fetch(url, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** `POST /v1/chat/completions` with `body`. */
export function chat(proxy: TestProxy, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return send(`${proxy.baseURL}/chat/completions`, { body, headers });
}

/** A minimal valid chat request. */
export function chatBody(model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, messages: [{ role: "user", content: "Say hello" }], ...extra };
}

/** The OpenAI error object of an answer, after checking the body has exactly OpenAI's error shape. */
export function openAIError(answer: Answer): {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
} {
  expect(answer.headers.get("content-type") ?? "").toMatch(/application\/json/);
  const body = answer.json as { error?: Record<string, unknown> } | undefined;
  expect(body, `not a JSON body: ${answer.text.slice(0, 200)}`).toBeTypeOf("object");
  expect(Object.keys(body!)).toEqual(["error"]);
  const error = body!.error!;
  expect(Object.keys(error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(error.message).toBeTypeOf("string");
  expect(error.type).toBeTypeOf("string");
  return error as { message: string; type: string; param: string | null; code: string | null };
}

/** One recorded exchange: the live `responses` row with its `llm_relay_exchanges` row. */
export interface ExchangeRow {
  id: string;
  model: string;
  resolved_model: string | null;
  prompt: string | null;
  prompt_json: string | null;
  response_json: string | null;
  request_id: string;
  provider: string | null;
  deployment: string | null;
  upstream_model: string | null;
  http_status: number;
  status: string;
  error: string | null;
  stream: number;
}

/** Every exchange the proxy recorded so far, oldest first (flushes the recorder first). */
export async function recordedExchanges(proxy: TestProxy): Promise<ExchangeRow[]> {
  await proxy.server.ctx.recorder.flush();
  return rows<ExchangeRow>(
    proxy.dbPath,
    `SELECT r.id, r.model, r.resolved_model, r.prompt, r.prompt_json, r.response_json,
            e.request_id, e.provider, e.deployment, e.upstream_model, e.http_status, e.status, e.error, e.stream
       FROM llm_relay_exchanges e JOIN responses r ON r.id = e.response_id
      ORDER BY r.id`,
  );
}

/** The recorded exchange of the request with `x-request-id: requestId` (fails unless exactly one). */
export async function recordedExchange(proxy: TestProxy, requestId: string): Promise<ExchangeRow> {
  const found = (await recordedExchanges(proxy)).filter((row) => row.request_id === requestId);
  expect(found, `exchanges recorded for ${requestId}`).toHaveLength(1);
  return found[0]!;
}

/** A loopback port nothing listens on (a server is opened on port 0, then closed). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
