/**
 * The `llamacpp` provider through the real proxy, against a loopback fake
 * llama-server replaying the captured native API
 * (../shared/fixtures/protocols/llama-server.txt): the rendered prompt and
 * the backend's own keys on `/completion`, usage and finish reasons from its
 * final `stop: true` event, `auto` templates from `/props`, the context-window
 * refusal from `/tokenize` and `n_ctx`, and every failure mode recorded.
 */
import { Template } from "@huggingface/jinja";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { chat, closedPort, openAIError } from "../helpers/exchanges.js";
import { CAPTURED_PIECES, LOADING_BODY, startFakeLlamaCpp, type FakeLlamaCpp } from "../helpers/fake-llamacpp.js";
import { fakeTokenize } from "../helpers/fake-tokenizer.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { STORY_CHATML, STORY_MESSAGES, rawDeployment, recordRow } from "../helpers/raw-provider.js";
import { readSse } from "../helpers/sse.js";

/** HuggingFaceH4/zephyr-7b-beta's chat template (tokenizer_config.json), as a model's GGUF would carry it. */
const ZEPHYR_TEMPLATE =
  "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n" +
  "{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n" +
  "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

let fake: FakeLlamaCpp;
let proxy: TestProxy;
let client: OpenAI;
let downUrl: string;

beforeAll(async () => {
  fake = await startFakeLlamaCpp();
  downUrl = `http://127.0.0.1:${await closedPort()}`;
  proxy = await startTestProxy({
    models: {
      llama: rawDeployment("llamacpp", fake.url, { prompt_format: "chatml", model: "stories260K" }),
      "llama-auto": rawDeployment("llamacpp", fake.url, { prompt_format: "auto" }),
      "llama-default": rawDeployment("llamacpp", fake.url),
      "llama-ctx": rawDeployment("llamacpp", fake.url, { prompt_format: "chatml" }),
      "llama-loading": rawDeployment("llamacpp", fake.url, { prompt_format: "chatml" }),
      "llama-down": rawDeployment("llamacpp", downUrl, { prompt_format: "chatml" }),
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});
beforeEach(() => fake.set({}));

describe("llamacpp provider", () => {
  it("completes through POST /completion with the rendered prompt and llama.cpp's own keys; usage from the server is recorded", async () => {
    const completion = await client.chat.completions.create(
      {
        model: "llama",
        messages: STORY_MESSAGES,
        max_tokens: 64,
        temperature: 0.2,
        top_p: 0.9,
        stop: ["THE END"],
        seed: 7,
        top_k: 20,
        repeat_penalty: 1.1,
      } as OpenAI.ChatCompletionCreateParamsNonStreaming,
      { headers: { "x-request-id": "llama-complete" } },
    );
    const text = CAPTURED_PIECES.join("");
    expect(completion.choices[0]!.message).toEqual({ role: "assistant", content: text });
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    const promptTokens = fakeTokenize(STORY_CHATML, true).length;
    expect(completion.usage).toEqual({
      prompt_tokens: promptTokens,
      completion_tokens: CAPTURED_PIECES.length,
      total_tokens: promptTokens + CAPTURED_PIECES.length,
    });

    const sent = fake.completions().at(-1)!.body!;
    expect(sent).toEqual({
      prompt: STORY_CHATML,
      stream: false,
      n_predict: 64,
      stop: ["THE END", "<|im_end|>", "<|im_start|>"],
      temperature: 0.2,
      top_p: 0.9,
      top_k: 20,
      seed: 7,
      repeat_penalty: 1.1,
      cache_prompt: true,
    });
    const tokenize = fake.requests.filter((r) => r.path === "/tokenize").at(-1)!;
    expect(tokenize.body).toEqual({ content: STORY_CHATML, add_special: true });

    const row = await recordRow(proxy, "llama-complete");
    expect(row).toMatchObject({
      model: "llama",
      provider: "llamacpp",
      upstream_model: "stories260K",
      response: text,
      status: "ok",
      http_status: 200,
    });
    expect(row).toMatchObject({
      input_tokens: promptTokens,
      output_tokens: CAPTURED_PIECES.length,
      usage_estimated: 0,
      finish_reason: "stop",
    });
  });

  it("streams one chunk per /completion event; n_predict cuts it (stop_type limit → length) and the final stop:true event gives the usage", async () => {
    const stream = await client.chat.completions.create(
      {
        model: "llama",
        messages: STORY_MESSAGES,
        max_tokens: 5,
        stream: true,
        stream_options: { include_usage: true },
      },
      { headers: { "x-request-id": "llama-stream" } },
    );
    const deltas: string[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) deltas.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas).toEqual(CAPTURED_PIECES.slice(0, 5));
    expect(finish).toBe("length");
    const promptTokens = fakeTokenize(STORY_CHATML, true).length;
    expect(usage).toEqual({ prompt_tokens: promptTokens, completion_tokens: 5, total_tokens: promptTokens + 5 });
    expect(fake.completions().at(-1)!.body).toMatchObject({ stream: true, n_predict: 5, prompt: STORY_CHATML });

    const row = await recordRow(proxy, "llama-stream");
    expect(row).toMatchObject({
      response: CAPTURED_PIECES.slice(0, 5).join(""),
      status: "ok",
      stream: 1,
      input_tokens: promptTokens,
      output_tokens: 5,
      usage_estimated: 0,
      finish_reason: "length",
    });
  });

  it("the client's stream ends with [DONE] although llama-server's native stream has none", async () => {
    const response = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "llama", messages: STORY_MESSAGES, stream: true }),
    });
    const events = await readSse(response);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events
      .slice(0, -1)
      .map((e) => JSON.parse(e) as { object: string; choices: { finish_reason: string | null }[] });
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
  });

  it("prompt_format auto renders the model's chat template from GET /props, with its eos_token", async () => {
    fake.set({ chatTemplate: ZEPHYR_TEMPLATE, extraProps: { bos_token: "<s>", eos_token: "</s>" } });
    const completion = await client.chat.completions.create({ model: "llama-auto", messages: STORY_MESSAGES });
    expect(completion.choices[0]!.message.content).toBe(CAPTURED_PIECES.join(""));
    const expected = new Template(ZEPHYR_TEMPLATE).render({
      messages: STORY_MESSAGES,
      bos_token: "",
      eos_token: "</s>",
      add_generation_prompt: true,
    });
    expect(expected).toContain("<|system|>\nYou tell short stories.</s>");
    const sent = fake.completions().at(-1)!.body!;
    expect(sent.prompt).toBe(expected);
    expect(sent.stop).toContain("</s>");
    expect(fake.requests.some((r) => r.path === "/props")).toBe(true);
  });

  it("without prompt_format the default format (chatml) renders the prompt and the call works", async () => {
    const completion = await client.chat.completions.create({ model: "llama-default", messages: STORY_MESSAGES });
    expect(completion.choices[0]!.message.content).toBe(CAPTURED_PIECES.join(""));
    expect(fake.completions().at(-1)!.body!.prompt).toBe(STORY_CHATML);
  });

  it("refuses a prompt over n_ctx by the server's own token count: 400 context_length_exceeded, nothing generated, refusal recorded", async () => {
    fake.set({ nCtx: 40 });
    const messages = [{ role: "user", content: "word ".repeat(30).trim() }];
    const before = fake.completions().length;
    const answer = await chat(proxy, { model: "llama-ctx", messages, max_tokens: 16 }, { "x-request-id": "llama-ctx" });
    expect(answer.status).toBe(400);
    const error = openAIError(answer);
    expect(error.code).toBe("context_length_exceeded");
    const counted = fake.tokenCounts.at(-1)!;
    expect(counted).toBeGreaterThan(30);
    expect(error.message).toContain("maximum context length is 40 tokens");
    expect(error.message).toContain(`${counted} in the messages, 16 in the completion`);
    expect(fake.completions().length).toBe(before);
    const row = await recordRow(proxy, "llama-ctx");
    expect(row).toMatchObject({ status: "error", http_status: 400 });
    expect(row.error).toContain("context length");
  });

  it("a server that dies mid-stream: the client gets the first events and an in-band error, no [DONE]; recorded as truncated", async () => {
    fake.set({ dieAfterEvents: 3 });
    const response = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "llama-dies" },
      body: JSON.stringify({ model: "llama", messages: STORY_MESSAGES, stream: true }),
    });
    expect(response.status).toBe(200);
    const events = await readSse(response);
    expect(events).not.toContain("[DONE]");
    const error = JSON.parse(events.at(-1)!) as { error: { message: string; code: string } };
    expect(error.error.message).toMatch(/closed|unreachable|ended/i);
    const text = events
      .slice(0, -1)
      .map((e) => (JSON.parse(e) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? "")
      .join("");
    expect(text).toBe(CAPTURED_PIECES.slice(0, 3).join(""));
    const row = await recordRow(proxy, "llama-dies");
    expect(row).toMatchObject({ status: "truncated", response: text });
  });

  it("a server that is down: 502 upstream_unreachable, recorded", async () => {
    const answer = await chat(
      proxy,
      { model: "llama-down", messages: STORY_MESSAGES },
      { "x-request-id": "llama-down" },
    );
    expect(answer.status).toBe(502);
    expect(openAIError(answer).code).toBe("upstream_unreachable");
    expect(openAIError(answer).message).toContain(downUrl);
    const row = await recordRow(proxy, "llama-down");
    expect(row).toMatchObject({ status: "error", http_status: 502 });
  });

  it("relays llama-server's HTTP 500 for an unparseable body with its status and message", async () => {
    const response = await fetch(`${fake.url}/completion`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{bad",
    });
    const captured = await response.text();
    expect(response.status).toBe(500);
    fake.set({ completionError: { status: 500, body: captured } });
    const answer = await chat(proxy, { model: "llama", messages: STORY_MESSAGES }, { "x-request-id": "llama-500" });
    expect(answer.status).toBe(500);
    const error = openAIError(answer);
    expect(error.message).toMatch(/^\[json\.exception\.parse_error\.101\] parse error/);
    expect(error.type).toBe("server_error");
    expect((await recordRow(proxy, "llama-500")).http_status).toBe(500);
  });

  it("while the model loads: 503 saying so (checked with GET /health); once loaded, /props is read again", async () => {
    fake.set({ loading: true });
    const loading = await chat(
      proxy,
      { model: "llama-loading", messages: STORY_MESSAGES, max_tokens: 8 },
      { "x-request-id": "llama-loading" },
    );
    expect(loading.status).toBe(503);
    const error = openAIError(loading);
    expect(error.message).toContain("still loading its model");
    expect(error.message).toContain((JSON.parse(LOADING_BODY) as { error: { message: string } }).error.message);
    expect(fake.requests.at(-1)!.path).toBe("/health");
    expect((await recordRow(proxy, "llama-loading")).http_status).toBe(503);

    fake.set({ nCtx: 10 });
    const propsBefore = fake.requests.filter((r) => r.path === "/props").length;
    const refused = await chat(proxy, { model: "llama-loading", messages: STORY_MESSAGES, max_tokens: 8 });
    expect(refused.status).toBe(400);
    expect(openAIError(refused).message).toContain("maximum context length is 10 tokens");
    expect(fake.requests.filter((r) => r.path === "/props").length).toBe(propsBefore + 1);
  });
});
