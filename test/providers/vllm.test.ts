/**
 * The `vllm` provider through the real proxy, against a loopback fake vLLM
 * (shapes of vLLM's protocol.py, see test/fixtures/protocols/vllm/):
 * pass-through streaming and not, usage recorded, the context-window check
 * with `max_model_len` from `/v1/models` and the count of `/tokenize` (or an
 * estimate when it is missing), a backend that dies mid-stream, one that is down.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closedPort } from "../helpers/exchanges.js";
import { LOCAL_TEXT, startFakeLocalServer, type FakeLocalServer } from "../helpers/fake-openai-local.js";
import { localDeployment, recordOf, streamEvents, streamedText } from "../helpers/local-backend-tests.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { readSse } from "../helpers/sse.js";

const MODEL = "meta-llama/Llama-3.1-8B-Instruct";
let fake: FakeLocalServer;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeLocalServer("vllm", MODEL, 4096);
  const downPort = await closedPort();
  proxy = await startTestProxy({
    models: {
      vllm: localDeployment("vllm", fake.baseUrl, { model: MODEL }),
      "vllm-small": localDeployment("vllm", fake.baseUrl, { model: MODEL, context_window: 30 }),
      "vllm-down": localDeployment("vllm", `http://127.0.0.1:${downPort}/v1`, { model: MODEL }),
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});
beforeEach(() => {
  fake.behave({ kind: "ok" });
  fake.setTokenCount(12);
});

const messages = [{ role: "user" as const, content: "Hello!" }];

describe("vllm", () => {
  it("streams vLLM's chunks through unchanged; its usage is recorded; the prompt was counted with /tokenize first", async () => {
    const response = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "vl-stream" },
      body: JSON.stringify({ model: "vllm", messages, stream: true, max_tokens: 100 }),
    });
    const events = await readSse(response);
    expect(events.at(-1)).toBe("[DONE]");
    expect(streamedText(events)).toBe(LOCAL_TEXT);
    // vLLM's own fields arrive as vLLM sent them (a pass-through, not a rebuild).
    expect(events.some((e) => e.includes('"stop_reason":null'))).toBe(true);
    expect(fake.requestsTo("/tokenize").at(-1)!.body).toEqual({ model: MODEL, messages, add_generation_prompt: true });
    expect(fake.requestsTo("/v1/models").length).toBe(1);
    expect(fake.requestsTo("/v1/chat/completions").at(-1)!.body).toMatchObject({
      model: MODEL,
      stream: true,
      max_tokens: 100,
      stream_options: { include_usage: true },
    });
    const row = await recordOf(proxy, "vl-stream");
    expect(row).toMatchObject({
      response: LOCAL_TEXT,
      input_tokens: 12,
      output_tokens: 9,
      usage_estimated: 0,
      status: "ok",
      finish_reason: "stop",
      provider: "vllm",
    });
  });

  it("non-streaming through the openai SDK; finish_reason length is kept; /v1/models is asked only once", async () => {
    fake.behave({ kind: "ok", finishReason: "length", text: "Hello" });
    const completion = await client.chat.completions.create(
      { model: "vllm", messages },
      { headers: { "x-request-id": "vl-whole" } },
    );
    expect(completion.choices[0]).toMatchObject({ message: { content: "Hello" }, finish_reason: "length" });
    expect(completion.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 9 });
    expect(fake.requestsTo("/v1/models").length).toBe(1);
    expect(await recordOf(proxy, "vl-whole")).toMatchObject({ finish_reason: "length", status: "ok" });
  });

  it("over max_model_len by vLLM's own count: 400 context_length_exceeded with both numbers, nothing sent to /v1/chat/completions, recorded", async () => {
    fake.setTokenCount(4000);
    const chatsBefore = fake.requestsTo("/v1/chat/completions").length;
    const error = await client.chat.completions
      .create({ model: "vllm", messages, max_tokens: 200 }, { headers: { "x-request-id": "vl-toolong" } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const apiError = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(apiError.code).toBe("context_length_exceeded");
    expect(apiError.message).toMatch(
      /maximum context length is 4096 tokens\. However, you requested 4200 tokens \(4000 in the messages, 200 in the completion\)/,
    );
    expect(fake.requestsTo("/v1/chat/completions").length).toBe(chatsBefore);
    expect(await recordOf(proxy, "vl-toolong")).toMatchObject({ status: "error", http_status: 400 });
  });

  it("without /tokenize the prompt is estimated, and the refusal says so", async () => {
    fake.setTokenCount(null);
    const chatsBefore = fake.requestsTo("/v1/chat/completions").length;
    const error = await client.chat.completions
      .create(
        { model: "vllm-small", messages: [{ role: "user", content: "please summarise this ".repeat(10) }] },
        { headers: { "x-request-id": "vl-estimated" } },
      )
      .catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("context_length_exceeded");
    expect((error as Error).message).toMatch(
      /maximum context length is 30 tokens.*\(\d+ \(estimated\) in the messages, 0 in the completion\)/,
    );
    expect(fake.requestsTo("/v1/chat/completions").length).toBe(chatsBefore);
    expect(await recordOf(proxy, "vl-estimated")).toMatchObject({ status: "error", http_status: 400 });
  });

  it("a backend that dies mid-stream: partial text, in-band error, recorded as truncated", async () => {
    fake.behave({ kind: "reset-after", events: 2, text: "alpha beta gamma delta epsilon" });
    const { status, events } = await streamEvents(proxy, { model: "vllm", messages }, "vl-reset");
    expect(status).toBe(200);
    expect(events).not.toContain("[DONE]");
    expect(JSON.parse(events.at(-1)!)).toHaveProperty("error");
    const partial = streamedText(events.slice(0, -1));
    expect(partial.length).toBeGreaterThan(0);
    expect("alpha beta gamma delta epsilon".startsWith(partial)).toBe(true);
    expect(partial).not.toBe("alpha beta gamma delta epsilon");
    expect(await recordOf(proxy, "vl-reset")).toMatchObject({ status: "truncated", response: partial });
  });

  it("a backend that is down: 502 upstream_unreachable, recorded", async () => {
    const error = await client.chat.completions
      .create({ model: "vllm-down", messages }, { headers: { "x-request-id": "vl-down" } })
      .catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe("upstream_unreachable");
    expect(await recordOf(proxy, "vl-down")).toMatchObject({ status: "error", http_status: 502 });
  });
});
