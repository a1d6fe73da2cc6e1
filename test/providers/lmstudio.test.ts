/**
 * The `lmstudio` provider through the real proxy, against a loopback fake
 * LM Studio (shapes in test/fixtures/protocols/lmstudio/): chat mode passes
 * `/v1/chat/completions` through with a context-window check (window from
 * `/api/v0/models/{model}`); `mode: legacy` renders the prompt with the
 * prompt format and completes it through `/v1/completions` (SSE text
 * events turned into chat chunks).
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closedPort } from "../helpers/exchanges.js";
import { LOCAL_TEXT, startFakeLocalServer, type FakeLocalServer } from "../helpers/fake-openai-local.js";
import { localDeployment, recordOf, streamEvents, streamedText } from "../helpers/local-backend-tests.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

const MODEL = "granite-3.0-2b-instruct";
/** The documented usage of LM Studio's chat and completions answers. */
const CHAT_USAGE = { prompt: 24, completion: 53 };
const COMPLETION_USAGE = { prompt: 5, completion: 9 };
let fake: FakeLocalServer;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeLocalServer("lmstudio", MODEL, 60);
  const downPort = await closedPort();
  proxy = await startTestProxy({
    models: {
      lms: localDeployment("lmstudio", fake.baseUrl, { model: MODEL }),
      "lms-legacy": localDeployment("lmstudio", fake.baseUrl, {
        model: MODEL,
        mode: "legacy",
        prompt_format: "chatml",
      }),
      "lms-down": localDeployment("lmstudio", `http://127.0.0.1:${downPort}/v1`, {
        model: MODEL,
        mode: "legacy",
        prompt_format: "chatml",
      }),
      "lms-chat-down": localDeployment("lmstudio", `http://127.0.0.1:${downPort}/v1`, { model: MODEL }),
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});
beforeEach(() => fake.behave({ kind: "ok" }));

const messages = [
  { role: "system" as const, content: "Answer in rhymes." },
  { role: "user" as const, content: "Introduce yourself." },
];
const CHATML_PROMPT =
  "<|im_start|>system\nAnswer in rhymes.<|im_end|>\n<|im_start|>user\nIntroduce yourself.<|im_end|>\n<|im_start|>assistant\n";

describe("lmstudio chat mode", () => {
  it("streams /v1/chat/completions through; LM Studio's usage is recorded", async () => {
    const stream = await client.chat.completions.create(
      { model: "lms", messages, stream: true },
      { headers: { "x-request-id": "lm-chat" } },
    );
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe(LOCAL_TEXT);
    expect(fake.requestsTo("/v1/chat/completions").at(-1)!.body).toMatchObject({
      model: MODEL,
      messages,
      stream: true,
    });
    expect(fake.requestsTo(`/api/v0/models/${MODEL}`).length).toBeGreaterThan(0);
    expect(await recordOf(proxy, "lm-chat")).toMatchObject({
      response: LOCAL_TEXT,
      input_tokens: CHAT_USAGE.prompt,
      output_tokens: CHAT_USAGE.completion,
      usage_estimated: 0,
      status: "ok",
      provider: "lmstudio",
    });
  });

  it("over LM Studio's max_context_length: 400 context_length_exceeded, nothing sent, recorded", async () => {
    const before = fake.requestsTo("/v1/chat/completions").length;
    const error = await client.chat.completions
      .create(
        { model: "lms", messages: [{ role: "user", content: "rhyme ".repeat(80) }], max_tokens: 10 },
        { headers: { "x-request-id": "lm-toolong" } },
      )
      .catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("context_length_exceeded");
    expect((error as Error).message).toMatch(
      /maximum context length is 60 tokens.*\(\d+ \(estimated\) in the messages, 10 in the completion\)/,
    );
    expect(fake.requestsTo("/v1/chat/completions").length).toBe(before);
    expect(await recordOf(proxy, "lm-toolong")).toMatchObject({ status: "error", http_status: 400 });
  });

  it("a backend that is down: 502 upstream_unreachable", async () => {
    const error = await client.chat.completions.create({ model: "lms-chat-down", messages }).catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe("upstream_unreachable");
  });
});

describe("lmstudio legacy mode (/v1/completions)", () => {
  it("streams: the ChatML prompt and the stop sequences go to /v1/completions; text events become chat chunks; usage recorded", async () => {
    fake.behave({ kind: "ok", finishReason: "length" });
    const chatsBefore = fake.requestsTo("/v1/chat/completions").length;
    const stream = await client.chat.completions.create(
      { model: "lms-legacy", messages, stream: true, max_tokens: 9, stop: ["\n\n"] },
      { headers: { "x-request-id": "lm-legacy" } },
    );
    let text = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(LOCAL_TEXT);
    expect(finish).toBe("length");
    expect(fake.requestsTo("/v1/completions").at(-1)!.body).toEqual({
      model: MODEL,
      prompt: CHATML_PROMPT,
      stream: true,
      max_tokens: 9,
      stop: ["\n\n", "<|im_end|>", "<|im_start|>"],
      stream_options: { include_usage: true },
    });
    expect(fake.requestsTo("/v1/chat/completions").length).toBe(chatsBefore);
    expect(await recordOf(proxy, "lm-legacy")).toMatchObject({
      response: LOCAL_TEXT,
      input_tokens: COMPLETION_USAGE.prompt,
      output_tokens: COMPLETION_USAGE.completion,
      usage_estimated: 0,
      finish_reason: "length",
      status: "ok",
    });
  });

  it("non-streaming: choices[0].text becomes the assistant message", async () => {
    fake.behave({ kind: "ok", text: "I am a model.", finishReason: "stop" });
    const completion = await client.chat.completions.create({
      model: "lms-legacy",
      messages,
      temperature: 0.2,
      seed: 7,
    });
    expect(completion.choices[0]).toMatchObject({
      message: { role: "assistant", content: "I am a model." },
      finish_reason: "stop",
    });
    expect(completion.usage).toMatchObject({
      prompt_tokens: COMPLETION_USAGE.prompt,
      completion_tokens: COMPLETION_USAGE.completion,
    });
    expect(fake.requestsTo("/v1/completions").at(-1)!.body).toMatchObject({
      prompt: CHATML_PROMPT,
      stream: false,
      temperature: 0.2,
      seed: 7,
    });
  });

  it("a prompt over the window: 400, nothing sent to /v1/completions", async () => {
    const before = fake.requestsTo("/v1/completions").length;
    const error = await client.chat.completions
      .create({ model: "lms-legacy", messages: [{ role: "user", content: "verse ".repeat(80) }] })
      .catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("context_length_exceeded");
    expect((error as Error).message).toMatch(/maximum context length is 60 tokens/);
    expect(fake.requestsTo("/v1/completions").length).toBe(before);
  });

  it("a backend that dies mid-stream: partial text, in-band error, recorded as truncated", async () => {
    fake.behave({ kind: "reset-after", events: 2, text: "roses are red violets are blue" });
    const { events } = await streamEvents(proxy, { model: "lms-legacy", messages }, "lm-reset");
    expect(events).not.toContain("[DONE]");
    expect(JSON.parse(events.at(-1)!)).toHaveProperty("error");
    const partial = streamedText(events.slice(0, -1));
    expect(partial.length).toBeGreaterThan(0);
    expect("roses are red violets are blue".startsWith(partial)).toBe(true);
    expect(await recordOf(proxy, "lm-reset")).toMatchObject({ status: "truncated", response: partial });
  });

  it("a backend that is down: 502 upstream_unreachable, recorded", async () => {
    const error = await client.chat.completions
      .create({ model: "lms-down", messages }, { headers: { "x-request-id": "lm-down" } })
      .catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe("upstream_unreachable");
    expect(await recordOf(proxy, "lm-down")).toMatchObject({ status: "error", http_status: 502 });
  });
});
