/**
 * The `webui` provider through the real proxy, against loopback fakes of
 * text-generation-webui built from the shapes in
 * test/fixtures/protocols/webui/ (read from webui's source): the default
 * mode's `POST /v1/completions` (JSON and SSE, usage in a separate chunk or
 * on the finish chunk), and `mode: legacy`'s `POST /api/v1/generate` over
 * HTTP/1.0 with counts and finish reason derived from its token-count.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { chat, closedPort, openAIError } from "../helpers/exchanges.js";
import { fakeTokenize } from "../helpers/fake-tokenizer.js";
import { WEBUI_PIECES, startFakeWebui, type FakeWebui } from "../helpers/fake-webui.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { STORY_CHATML, STORY_MESSAGES, rawDeployment, recordRow } from "../helpers/raw-provider.js";
import { readSse } from "../helpers/sse.js";

let fake: FakeWebui;
let legacy: FakeWebui;
let proxy: TestProxy;
let client: OpenAI;

const PROMPT_TOKENS = fakeTokenize(STORY_CHATML, true).length;
const TEXT = WEBUI_PIECES.join("");

beforeAll(async () => {
  fake = await startFakeWebui();
  legacy = await startFakeWebui({ legacy: true });
  proxy = await startTestProxy({
    models: {
      webui: rawDeployment("webui", fake.url, {
        prompt_format: "chatml",
        context_window: 4096,
        model: "Qwen_Qwen3-0.6B-Q4_K_M.gguf",
      }),
      "webui-default": rawDeployment("webui", fake.url),
      "webui-small": rawDeployment("webui", fake.url, { prompt_format: "chatml", context_window: 30 }),
      "webui-down": rawDeployment("webui", `http://127.0.0.1:${await closedPort()}`, { prompt_format: "chatml" }),
      "webui-legacy": rawDeployment("webui", legacy.url, {
        prompt_format: "chatml",
        mode: "legacy",
        context_window: 4096,
      }),
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
  await legacy.close();
});
beforeEach(() => {
  fake.set({});
  legacy.set({});
});

/** Reads a streamed answer with the openai SDK: its deltas, finish reason and usage. */
async function streamed(params: Omit<OpenAI.ChatCompletionCreateParamsStreaming, "stream">, requestId: string) {
  const stream = await client.chat.completions.create(
    { ...params, stream: true },
    { headers: { "x-request-id": requestId } },
  );
  const deltas: string[] = [];
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (choice?.delta.content) deltas.push(choice.delta.content);
    if (choice?.finish_reason) finish = choice.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  return { deltas, finish, usage };
}

describe("webui provider, /v1/completions", () => {
  it("completes the rendered prompt with stop, max_tokens, truncation_length and webui's key names; its usage is recorded", async () => {
    const completion = await client.chat.completions.create(
      {
        model: "webui",
        messages: STORY_MESSAGES,
        max_tokens: 64,
        temperature: 0.6,
        top_p: 0.95,
        stop: "THE END",
        seed: 7,
        top_k: 20,
        repeat_penalty: 1.1,
      } as OpenAI.ChatCompletionCreateParamsNonStreaming,
      { headers: { "x-request-id": "webui-complete" } },
    );
    const completionTokens = fakeTokenize(TEXT, true).length;
    expect(completion.choices[0]!.message.content).toBe(TEXT);
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect(completion.usage).toEqual({
      prompt_tokens: PROMPT_TOKENS,
      completion_tokens: completionTokens,
      total_tokens: PROMPT_TOKENS + completionTokens,
    });
    expect(fake.generations().at(-1)!.body).toEqual({
      prompt: STORY_CHATML,
      max_tokens: 64,
      stop: ["THE END", "<|im_end|>", "<|im_start|>"],
      stream: false,
      temperature: 0.6,
      top_p: 0.95,
      top_k: 20,
      seed: 7,
      repetition_penalty: 1.1,
      truncation_length: 4096,
    });
    expect(fake.requests.find((r) => r.path === "/v1/internal/token-count")!.body).toEqual({ text: STORY_CHATML });
    const row = await recordRow(proxy, "webui-complete");
    expect(row).toMatchObject({
      provider: "webui",
      response: TEXT,
      status: "ok",
      input_tokens: PROMPT_TOKENS,
      output_tokens: completionTokens,
      usage_estimated: 0,
      finish_reason: "stop",
    });
  });

  it("streams the SSE chunks; the usage-only chunk after the finish chunk gives the usage (stream_options.include_usage is asked for)", async () => {
    const result = await streamed(
      { model: "webui", messages: STORY_MESSAGES, stream_options: { include_usage: true } },
      "webui-stream",
    );
    expect(result.deltas).toEqual(WEBUI_PIECES);
    expect(result.finish).toBe("stop");
    const completionTokens = fakeTokenize(TEXT, true).length;
    expect(result.usage).toEqual({
      prompt_tokens: PROMPT_TOKENS,
      completion_tokens: completionTokens,
      total_tokens: PROMPT_TOKENS + completionTokens,
    });
    expect(fake.generations().at(-1)!.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      prompt: STORY_CHATML,
    });
    const row = await recordRow(proxy, "webui-stream");
    expect(row).toMatchObject({
      response: TEXT,
      status: "ok",
      stream: 1,
      input_tokens: PROMPT_TOKENS,
      output_tokens: completionTokens,
      usage_estimated: 0,
    });
  });

  it("older builds put usage on the finish chunk; an answer cut at max_tokens finishes with length", async () => {
    fake.set({ usageOnFinish: true });
    const result = await streamed(
      { model: "webui", messages: STORY_MESSAGES, max_tokens: 2, stream_options: { include_usage: true } },
      "webui-old",
    );
    expect(result.deltas).toEqual(WEBUI_PIECES.slice(0, 1));
    expect(result.finish).toBe("length");
    const completionTokens = fakeTokenize(WEBUI_PIECES[0]!, true).length;
    expect(result.usage).toEqual({
      prompt_tokens: PROMPT_TOKENS,
      completion_tokens: completionTokens,
      total_tokens: PROMPT_TOKENS + completionTokens,
    });
    expect(await recordRow(proxy, "webui-old")).toMatchObject({ usage_estimated: 0, finish_reason: "length" });
  });

  it("without max_tokens it asks for webui's own default (512 with auto_max_new_tokens); without prompt_format the default format is used", async () => {
    const completion = await client.chat.completions.create({ model: "webui-default", messages: STORY_MESSAGES });
    expect(completion.choices[0]!.message.content).toBe(TEXT);
    const sent = fake.generations().at(-1)!.body!;
    expect(sent).toMatchObject({ prompt: STORY_CHATML, max_tokens: 512, auto_max_new_tokens: true });
    expect(sent).not.toHaveProperty("truncation_length");
  });

  it("refuses a prompt over the configured context_window by webui's token count: 400, nothing generated, recorded", async () => {
    const before = fake.generations().length;
    const answer = await chat(
      proxy,
      { model: "webui-small", messages: STORY_MESSAGES, max_tokens: 20 },
      { "x-request-id": "webui-ctx" },
    );
    expect(answer.status).toBe(400);
    const error = openAIError(answer);
    expect(error.code).toBe("context_length_exceeded");
    expect(error.message).toContain("maximum context length is 30 tokens");
    expect(error.message).toContain(`${PROMPT_TOKENS} in the messages, 20 in the completion`);
    expect(fake.generations().length).toBe(before);
    expect(await recordRow(proxy, "webui-ctx")).toMatchObject({ status: "error", http_status: 400 });
  });

  it("a server that dies mid-stream: partial text, an in-band error, no [DONE]; recorded as truncated", async () => {
    fake.set({ dieAfterChunks: 2 });
    const response = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "webui-dies" },
      body: JSON.stringify({ model: "webui", messages: STORY_MESSAGES, stream: true }),
    });
    const events = await readSse(response);
    expect(events).not.toContain("[DONE]");
    expect((JSON.parse(events.at(-1)!) as { error: { message: string } }).error.message).toMatch(/closed|unreachable/i);
    expect(await recordRow(proxy, "webui-dies")).toMatchObject({
      status: "truncated",
      response: WEBUI_PIECES.slice(0, 2).join(""),
    });
  });

  it("relays webui's own error with its status, and a down server as 502", async () => {
    fake.set({
      error: {
        status: 400,
        body: JSON.stringify({
          error: {
            message: "max_tokens must be greater than or equal to 0.",
            type: "invalid_request_error",
            param: "max_tokens",
            code: null,
          },
        }),
      },
    });
    const failed = await chat(proxy, { model: "webui", messages: STORY_MESSAGES });
    expect(failed.status).toBe(400);
    expect(openAIError(failed)).toMatchObject({
      message: "max_tokens must be greater than or equal to 0.",
      param: "max_tokens",
    });

    const down = await chat(proxy, { model: "webui-down", messages: STORY_MESSAGES }, { "x-request-id": "webui-down" });
    expect(down.status).toBe(502);
    expect(openAIError(down).code).toBe("upstream_unreachable");
    expect(await recordRow(proxy, "webui-down")).toMatchObject({ status: "error", http_status: 502 });
  });
});

describe("webui provider, mode: legacy", () => {
  it("completes through POST /api/v1/generate (HTTP/1.0) with stopping_strings and max_new_tokens; counts from /api/v1/token-count", async () => {
    const completion = await client.chat.completions.create(
      { model: "webui-legacy", messages: STORY_MESSAGES, max_tokens: 64, stop: ["THE END"], temperature: 0.7 },
      { headers: { "x-request-id": "legacy-complete" } },
    );
    const completionTokens = fakeTokenize(TEXT, true).length;
    expect(completion.choices[0]!.message.content).toBe(TEXT);
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect(completion.usage).toEqual({
      prompt_tokens: PROMPT_TOKENS,
      completion_tokens: completionTokens,
      total_tokens: PROMPT_TOKENS + completionTokens,
    });
    const sent = legacy.generations().at(-1)!.body;
    expect(sent).toEqual({
      prompt: STORY_CHATML,
      max_new_tokens: 64,
      stopping_strings: ["THE END", "<|im_end|>", "<|im_start|>"],
      temperature: 0.7,
      truncation_length: 4096,
    });
    expect(legacy.requests.filter((r) => r.path === "/api/v1/token-count").map((r) => r.body)).toContainEqual({
      prompt: TEXT,
    });
    expect(await recordRow(proxy, "legacy-complete")).toMatchObject({
      status: "ok",
      input_tokens: PROMPT_TOKENS,
      output_tokens: completionTokens,
      usage_estimated: 0,
      finish_reason: "stop",
    });
  });

  it("a streamed request gets the whole answer as one delta; an answer that reached max_new_tokens finishes with length", async () => {
    const result = await streamed(
      { model: "webui-legacy", messages: STORY_MESSAGES, max_tokens: 2, stream_options: { include_usage: true } },
      "legacy-stream",
    );
    expect(result.deltas).toEqual(WEBUI_PIECES.slice(0, 1));
    expect(result.finish).toBe("length");
    expect(result.usage?.completion_tokens).toBe(fakeTokenize(WEBUI_PIECES[0]!, true).length);
    expect(await recordRow(proxy, "legacy-stream")).toMatchObject({
      status: "ok",
      stream: 1,
      usage_estimated: 0,
      finish_reason: "length",
    });
  });
});
