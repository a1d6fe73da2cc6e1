/**
 * Anthropic's errors as the `openai` SDK sees them through the proxy:
 * HTTP errors (400, 429 with retry-after, 529) become OpenAI error bodies
 * with the documented statuses (529 → 503), in-band `error` events become
 * an HTTP error before the first chunk and an in-band error after it, and
 * requests Anthropic cannot express are refused before anything is sent.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { chat, openAIError } from "../helpers/exchanges.js";
import {
  anthropicErrors,
  FAKE_ANTHROPIC_KEY,
  startFakeAnthropic,
  type FakeAnthropicUpstream,
} from "../helpers/fake-anthropic-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { readSse } from "../helpers/sse.js";

let fake: FakeAnthropicUpstream;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  proxy = await startTestProxy(
    {
      models: {
        claude: fakeDeployment(fake.baseUrl, {
          provider: "anthropic",
          api_key_env: "ANTHROPIC_API_KEY",
          model: "claude-sonnet-4-20250514",
        }),
        "claude-wrong-key": fakeDeployment(fake.baseUrl, {
          provider: "anthropic",
          api_key_env: "OTHER_KEY",
          model: "claude-sonnet-4-20250514",
        }),
        "claude-impatient": fakeDeployment(fake.baseUrl, {
          provider: "anthropic",
          api_key_env: "ANTHROPIC_API_KEY",
          model: "claude-sonnet-4-20250514",
          first_token_timeout_ms: 200,
        }),
        "claude-total": fakeDeployment(fake.baseUrl, {
          provider: "anthropic",
          api_key_env: "ANTHROPIC_API_KEY",
          model: "claude-sonnet-4-20250514",
          total_timeout_ms: 200,
        }),
      },
    },
    { env: { ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, OTHER_KEY: "sk-ant-wrong" } },
  );
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});

const hi = [{ role: "user" as const, content: "Hi" }];

async function apiError(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenAI.APIError);
  return error as InstanceType<typeof OpenAI.APIError>;
}

async function exchangeRow(requestId: string): Promise<Record<string, unknown>> {
  await proxy.server.ctx.recorder.flush();
  const [row] = rows<Record<string, unknown>>(
    proxy.dbPath,
    "select r.response, x.* from responses r join llm_relay_exchanges x on x.response_id = r.id where x.request_id = ?",
    requestId,
  );
  expect(row, `no record for ${requestId}`).toBeDefined();
  return row!;
}

describe("anthropic provider: HTTP errors", () => {
  it("400 invalid_request_error → 400 with Anthropic's message, as an OpenAI error body", async () => {
    fake.queue({ kind: "error", error: "invalid_request" });
    const answer = await chat(proxy, { model: "claude", messages: hi, max_tokens: 8192 });
    expect(answer.status).toBe(400);
    expect(openAIError(answer)).toEqual({
      message: (anthropicErrors().invalid_request!.body as { error: { message: string } }).error.message,
      type: "invalid_request_error",
      param: null,
      code: "invalid_request_error",
    });
  });

  it("a prompt over the context window → 400 context_length_exceeded", async () => {
    fake.queue({ kind: "error", error: "prompt_too_long" });
    const error = await apiError(client.chat.completions.create({ model: "claude", messages: hi }));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.code).toBe("context_length_exceeded");
    expect(error.message).toContain("prompt is too long: 215143 tokens > 200000 maximum");
  });

  it("429 rate_limit_error → 429 rate_limit_error, retry-after passed on", async () => {
    fake.queue({ kind: "error", error: "rate_limit" });
    const error = await apiError(
      client.chat.completions.create(
        { model: "claude", messages: hi },
        { headers: { "x-request-id": "anthropic-429" } },
      ),
    );
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.status).toBe(429);
    expect(error.type).toBe("rate_limit_error");
    expect(error.headers?.get("retry-after")).toBe("7");
    expect(await exchangeRow("anthropic-429")).toMatchObject({
      status: "error",
      http_status: 429,
      provider: "anthropic",
    });
  });

  it("529 overloaded_error → 503 server_error (code overloaded_error), streamed or not", async () => {
    fake.queue({ kind: "error", error: "overloaded" }, { kind: "error", error: "overloaded" });
    const error = await apiError(client.chat.completions.create({ model: "claude", messages: hi }));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error.status).toBe(503);
    expect(error.error).toEqual({ message: "Overloaded", type: "server_error", param: null, code: "overloaded_error" });
    const streamed = await apiError(client.chat.completions.create({ model: "claude", messages: hi, stream: true }));
    expect(streamed.status).toBe(503);
    expect(streamed.code).toBe("overloaded_error");
  });

  it("a key Anthropic refuses → 401 authentication_error", async () => {
    const error = await apiError(client.chat.completions.create({ model: "claude-wrong-key", messages: hi }));
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error.message).toContain("invalid x-api-key");
    expect(fake.requests.at(-1)!.headers["x-api-key"]).toBe("sk-ant-wrong");
  });
});

describe("anthropic provider: timeouts", () => {
  it("no answer within first_token_timeout_ms → 504 upstream_timeout", async () => {
    fake.queue({ kind: "stall" });
    const error = await apiError(client.chat.completions.create({ model: "claude-impatient", messages: hi }));
    expect(error.status).toBe(504);
    expect(error.code).toBe("upstream_timeout");
    expect(error.message).toContain("within 200 ms");
  });

  it("a call running past total_timeout_ms → 504 naming the total timeout", async () => {
    fake.queue({ kind: "stall" });
    const error = await apiError(client.chat.completions.create({ model: "claude-total", messages: hi, stream: true }));
    expect(error.status).toBe(504);
    expect(error.code).toBe("upstream_timeout");
    expect(error.message).toContain("total timeout of 200 ms");
  });
});

describe("anthropic provider: in-band stream errors", () => {
  it("an error event before any content → a real HTTP 503", async () => {
    fake.queue({ kind: "error-event" });
    const error = await apiError(client.chat.completions.create({ model: "claude", messages: hi, stream: true }));
    expect(error.status).toBe(503);
    expect(error.error).toEqual({ message: "Overloaded", type: "server_error", param: null, code: "overloaded_error" });
  });

  it("an error event mid-stream → the text so far, then an in-band error; recorded as truncated", async () => {
    fake.queue({ kind: "sse", file: "stream-overloaded" });
    const stream = await client.chat.completions.create(
      { model: "claude", messages: hi, stream: true },
      { headers: { "x-request-id": "anthropic-midstream" } },
    );
    let text = "";
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })().then(
      () => null,
      (e: unknown) => e,
    );
    expect(text).toBe("Hello");
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toContain("Overloaded");
    expect(await exchangeRow("anthropic-midstream")).toMatchObject({
      status: "truncated",
      response: "Hello",
      provider: "anthropic",
    });
  });

  it("a stream that ends before message_stop → the text so far, then an in-band upstream_truncated error", async () => {
    // message_start, content_block_start, ping and the first two text deltas.
    fake.queue({ kind: "sse", file: "stream-text", events: 5 });
    const response = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "anthropic-cut" },
      body: JSON.stringify({ model: "claude", messages: hi, stream: true }),
    });
    expect(response.status).toBe(200);
    const events = await readSse(response);
    expect(events).not.toContain("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as OpenAI.ChatCompletionChunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("Hello! I");
    expect(JSON.parse(events.at(-1)!)).toMatchObject({ error: { code: "upstream_truncated", type: "server_error" } });
    expect(await exchangeRow("anthropic-cut")).toMatchObject({ status: "truncated", response: "Hello! I" });
  });
});

describe("anthropic provider: requests Anthropic cannot express", () => {
  it.each([
    ["n > 1", { n: 2 }, "n"],
    [
      "tool-call arguments that are not a JSON object",
      {
        messages: [
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "[1,2]" } }],
          },
        ],
      },
      "messages.0.tool_calls.0.function.arguments",
    ],
    [
      "an audio part",
      {
        messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "AAAA", format: "wav" } }] }],
      },
      "messages.0.content.0.type",
    ],
    ["a legacy function message", { messages: [{ role: "function", name: "f", content: "{}" }] }, "messages.0.role"],
  ])("%s → 400 naming the field, nothing sent upstream", async (_name, extra, param) => {
    const before = fake.requests.length;
    const answer = await chat(proxy, { model: "claude", messages: hi, ...extra });
    expect(answer.status).toBe(400);
    expect(openAIError(answer)).toMatchObject({ type: "invalid_request_error", param });
    expect(fake.requests).toHaveLength(before);
  });
});
