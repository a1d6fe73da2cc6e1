/**
 * Garbage from the upstream is an error, never a success (issue 16,
 * failure 8). A non-streaming 2xx whose body is not a chat.completion — cut
 * short, HTML, `{"choices":[null]}`, `[]`, a JSON string — is answered 502
 * `upstream_invalid_response` in OpenAI's error shape and recorded as an
 * error with the whole body; like any 5xx it is retried. A stream event
 * whose `data:` is not a chat.completion.chunk is passed through as the
 * upstream sent it, and the exchange is recorded as an error naming the
 * event, with the text that came before it.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { chat, chatBody, openAIError, recordedExchange, send } from "../helpers/exchanges.js";
import {
  chunk,
  completion,
  DEFAULT_TEXT,
  startFakeUpstream,
  type FakeUpstream,
} from "../helpers/fake-openai-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { group, recordedAttempts, routing, routingHeaders } from "./resilience-helpers.js";

let fake: FakeUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  fake = await startFakeUpstream();
  proxy = await startTestProxy({
    models: {
      up: fakeDeployment(fake.baseUrl),
      retrying: group("retrying", [fakeDeployment(fake.baseUrl)], { numRetries: 1 }),
    },
    routing: routing({ retry_base_ms: 10, retry_max_ms: 50 }),
    defaultModel: null,
  });
});
afterAll(async () => {
  await proxy?.close();
  await fake?.close();
});
beforeEach(() => fake.behave({ kind: "ok" }));

const GOOD_BODY = JSON.stringify(
  completion("chatcmpl-1", "up", "Hello there", { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 }),
);

/** A 200 answer with exactly `body`. */
const answer200 = (body: string, contentType = "application/json; charset=utf-8") => ({
  kind: "status" as const,
  status: 200,
  body,
  headers: { "content-type": contentType },
});

const GARBAGE: [string, string, string?][] = [
  ["a body cut short", GOOD_BODY.slice(0, GOOD_BODY.length - 25)],
  ["an HTML page", "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"],
  ['{"choices":[null]}', '{"choices":[null]}'],
  ["an empty JSON array", "[]"],
  ["a JSON string", '"ok"'],
  ["an empty body", ""],
];

describe("a non-streaming 200 that is not a chat.completion", () => {
  for (const [name, body, contentType] of GARBAGE) {
    it(`(${name}) is answered 502 upstream_invalid_response and recorded as an error with the raw body`, async () => {
      const id = `garbage-${name.replace(/\W+/g, "-")}`;
      fake.behave(answer200(body, contentType));
      const answer = await chat(proxy, chatBody("up"), { "x-request-id": id });

      expect(answer.status).toBe(502);
      const error = openAIError(answer);
      expect(error).toMatchObject({ type: "server_error", code: "upstream_invalid_response", param: null });
      expect(error.message).toContain(fake.baseUrl.replace(/\/v1$/, ""));
      const row = await recordedExchange(proxy, id);
      expect(row).toMatchObject({ status: "error", http_status: 502, stream: 0, provider: "openai-compatible" });
      expect(row.error).toBe(error.message);
      const recorded = JSON.parse(row.response_json ?? "null") as { error: unknown; upstream_body: string };
      expect(recorded.error).toEqual(error);
      expect(recorded.upstream_body).toBe(body);
    });
  }

  it("is an APIError 502 for the OpenAI SDK, not a completion with empty text", async () => {
    fake.behave(answer200('{"choices":[null]}'));
    const client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
    const call = client.chat.completions.create({ model: "up", messages: [{ role: "user", content: "Say hello" }] });
    await expect(call).rejects.toMatchObject({ status: 502, code: "upstream_invalid_response" });
  });

  it("is retried like any upstream 5xx: the next attempt's good answer reaches the client", async () => {
    fake.enqueue(answer200("<html>oops</html>", "text/html"));
    const answer = await chat(proxy, chatBody("retrying"), { "x-request-id": "garbage-retried" });

    expect(answer.status).toBe(200);
    expect((answer.json as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe(
      DEFAULT_TEXT,
    );
    expect(routingHeaders(answer.headers)).toEqual({ deployment: "retrying", attempts: "2" });
    const attempts = await recordedAttempts(proxy, "garbage-retried");
    expect(attempts.map((a) => a.status)).toEqual(["error", "ok"]);
    expect(attempts[0]!.error).toContain("not a chat.completion (not JSON): <html>oops</html>");
  });

  it("is a 502 for a stream request the upstream answered with one JSON body that is not a chat.completion", async () => {
    fake.behave(answer200('{"choices":[null]}'));
    const answer = await chat(proxy, chatBody("up", { stream: true }), { "x-request-id": "garbage-json-for-stream" });

    expect(answer.status).toBe(502);
    expect(openAIError(answer).code).toBe("upstream_invalid_response");
    expect(await recordedExchange(proxy, "garbage-json-for-stream")).toMatchObject({
      status: "error",
      http_status: 502,
      stream: 1,
    });
  });
});

describe("an embeddings 200 that is plainly not an embedding list", () => {
  for (const [name, body] of [
    ["an HTML page", "<html>upstream down</html>"],
    ["a body cut short", '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2'],
    ["an empty JSON array", "[]"],
  ] as const) {
    it(`(${name}) is answered 502 upstream_invalid_response and recorded as an error`, async () => {
      fake.behave(answer200(body));
      const id = `garbage-embed-${name.replace(/\W+/g, "-")}`;
      const answer = await send(`${proxy.baseURL}/embeddings`, {
        body: { model: "up", input: "hello" },
        headers: { "x-request-id": id },
      });

      expect(answer.status).toBe(502);
      expect(openAIError(answer)).toMatchObject({ type: "server_error", code: "upstream_invalid_response" });
      await proxy.server.ctx.recorder.flush();
      const recorded = rows<{ status: string; http_status: number }>(
        proxy.dbPath,
        "SELECT status, http_status FROM llm_relay_embeddings WHERE request_id = ?",
        id,
      );
      expect(recorded).toEqual([{ status: "error", http_status: 502 }]);
    });
  }
});

describe("a stream with an event that is not a chat.completion.chunk", () => {
  const event = (payload: unknown) => `data: ${typeof payload === "string" ? payload : JSON.stringify(payload)}\n\n`;
  const content = (text: string) => event(chunk("chatcmpl-s", "up", { content: text }, null));
  const finish = event(chunk("chatcmpl-s", "up", {}, "stop"));

  for (const [name, bad] of [
    ["not JSON", "this is not json at all"],
    ["cut JSON", JSON.stringify(chunk("chatcmpl-s", "up", { content: "lost" }, null)).slice(0, 40)],
    ['{"choices":[null]}', '{"choices":[null]}'],
  ] as const) {
    it(`(${name}) is passed through, and recorded as an error naming the event with the text before it`, async () => {
      const id = `garbage-stream-${name.replace(/\W+/g, "-")}`;
      const sse = `${content("Hello ")}${content("world")}${event(bad)}${content(" after")}${finish}data: [DONE]\n\n`;
      fake.behave(answer200(sse, "text/event-stream"));
      const answer = await chat(proxy, chatBody("up", { stream: true }), { "x-request-id": id });

      expect(answer.status).toBe(200);
      expect(answer.text).toBe(sse);
      const row = await recordedExchange(proxy, id);
      expect(row).toMatchObject({ status: "error", http_status: 200, stream: 1 });
      expect(row.error).toContain("not a chat.completion.chunk");
      expect(row.error).toContain(bad.slice(0, 30));
      const [text] = rows<{ response: string }>(proxy.dbPath, "SELECT response FROM responses WHERE id = ?", row.id);
      expect(text!.response).toBe("Hello world");
    });
  }

  it("a clean stream is still recorded ok (comments and [DONE] are not garbage)", async () => {
    const sse = `: keep-alive\n\n${content("Hello ")}${content("world")}${finish}data: [DONE]\n\n`;
    fake.behave(answer200(sse, "text/event-stream"));
    const answer = await chat(proxy, chatBody("up", { stream: true }), { "x-request-id": "clean-stream" });
    expect(answer.status).toBe(200);
    expect(await recordedExchange(proxy, "clean-stream")).toMatchObject({ status: "ok", error: null });
  });
});
