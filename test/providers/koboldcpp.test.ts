/**
 * The `koboldcpp` provider through the real proxy, against a loopback fake
 * KoboldCpp replaying the capture ../shared/fixtures/protocols/koboldcpp.txt
 * over HTTP/1.0: stop strings under `stop_sequence`, `max_length` and
 * `max_context_length`, counts from `/api/extra/tokencount`, the stream's
 * string "null" finish reasons and its end by connection close, and the
 * busy, bad-input, truncated, down and context-window failures recorded.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { chat, closedPort, openAIError } from "../helpers/exchanges.js";
import {
  BUSY_BODY,
  CAPTURED_STREAM_PIECES,
  CAPTURED_TEXT,
  startFakeKoboldCpp,
  type FakeKoboldCpp,
} from "../helpers/fake-koboldcpp.js";
import { fakeTokenize } from "../helpers/fake-tokenizer.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { STORY_CHATML, STORY_MESSAGES, rawDeployment, recordRow } from "../helpers/raw-provider.js";
import { readSse } from "../helpers/sse.js";

let fake: FakeKoboldCpp;
let proxy: TestProxy;
let client: OpenAI;
let downUrl: string;

beforeAll(async () => {
  fake = await startFakeKoboldCpp();
  downUrl = `http://127.0.0.1:${await closedPort()}`;
  proxy = await startTestProxy({
    models: {
      kobold: rawDeployment("koboldcpp", fake.url, { prompt_format: "chatml", model: "koboldcpp/stories260K" }),
      "kobold-default": rawDeployment("koboldcpp", fake.url, { max_output_tokens: 100 }),
      "kobold-ctx": rawDeployment("koboldcpp", fake.url, { prompt_format: "chatml" }),
      "kobold-down": rawDeployment("koboldcpp", downUrl, { prompt_format: "chatml" }),
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});
beforeEach(() => fake.set({}));

/** The chunks of a streamed answer read with fetch: contents, finish reason, usage, and the raw events. */
async function streamed(body: Record<string, unknown>, requestId: string) {
  const response = await fetch(`${proxy.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": requestId },
    body: JSON.stringify({ stream: true, stream_options: { include_usage: true }, ...body }),
  });
  expect(response.status).toBe(200);
  const events = await readSse(response);
  const chunks = events
    .filter((e) => e !== "[DONE]")
    .map(
      (e) =>
        JSON.parse(e) as {
          choices?: { delta: { content?: string }; finish_reason: string | null }[];
          usage?: OpenAI.CompletionUsage;
          error?: { message: string; code: string };
        },
    );
  return {
    events,
    contents: chunks.flatMap((c) => (c.choices?.[0]?.delta.content ? [c.choices[0].delta.content] : [])),
    finish: chunks.map((c) => c.choices?.[0]?.finish_reason).find((f) => f) ?? null,
    usage: chunks.find((c) => c.usage)?.usage,
    error: chunks.find((c) => c.error)?.error,
  };
}

describe("koboldcpp provider", () => {
  it("completes through POST /api/v1/generate with stop_sequence, max_length, max_context_length and rep_pen; counts from tokencount are recorded", async () => {
    const completion = await client.chat.completions.create(
      {
        model: "kobold",
        messages: STORY_MESSAGES,
        max_tokens: 32,
        temperature: 0.5,
        top_p: 0.9,
        stop: ["THE END"],
        seed: 7,
        top_k: 20,
        repeat_penalty: 1.1,
      } as OpenAI.ChatCompletionCreateParamsNonStreaming,
      { headers: { "x-request-id": "kobold-complete" } },
    );
    expect(completion.choices[0]!.message.content).toBe(CAPTURED_TEXT);
    expect(completion.choices[0]!.finish_reason).toBe("length");
    const promptTokens = fakeTokenize(STORY_CHATML, true).length;
    const completionTokens = fakeTokenize(CAPTURED_TEXT, false).length;
    expect(completion.usage).toEqual({
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    });

    const sent = fake.generations().at(-1)!;
    expect(sent.path).toBe("/api/v1/generate");
    expect(sent.body).toEqual({
      prompt: STORY_CHATML,
      max_length: 32,
      max_context_length: 2048,
      stop_sequence: ["THE END", "<|im_end|>", "<|im_start|>"],
      trim_stop: true,
      rep_pen: 1.1,
      temperature: 0.5,
      top_p: 0.9,
      top_k: 20,
      sampler_seed: 7,
    });
    expect(sent.body).not.toHaveProperty("stop");
    const counted = fake.requests.filter((r) => r.path === "/api/extra/tokencount").map((r) => r.body);
    expect(counted).toContainEqual({ prompt: STORY_CHATML, special: true });
    expect(counted).toContainEqual({ prompt: CAPTURED_TEXT, special: false });

    const row = await recordRow(proxy, "kobold-complete");
    expect(row).toMatchObject({
      provider: "koboldcpp",
      upstream_model: "koboldcpp/stories260K",
      response: CAPTURED_TEXT,
      status: "ok",
      http_status: 200,
    });
    expect(row).toMatchObject({
      input_tokens: promptTokens,
      output_tokens: completionTokens,
      usage_estimated: 0,
      finish_reason: "length",
    });
  });

  it("streams the HTTP/1.0 SSE stream: 'null' finish reasons until the last event, ended by the server closing the connection", async () => {
    const result = await streamed({ model: "kobold", messages: STORY_MESSAGES, max_tokens: 300 }, "kobold-stream");
    expect(result.contents).toEqual(CAPTURED_STREAM_PIECES);
    expect(result.finish).toBe("length");
    expect(result.events.at(-1)).toBe("[DONE]");
    const text = CAPTURED_STREAM_PIECES.join("");
    const promptTokens = fakeTokenize(STORY_CHATML, true).length;
    const completionTokens = fakeTokenize(text, false).length;
    expect(result.usage).toEqual({
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    });
    expect(fake.generations().at(-1)).toMatchObject({
      path: "/api/extra/generate/stream",
      body: { max_length: 300, stop_sequence: ["<|im_end|>", "<|im_start|>"] },
    });

    const row = await recordRow(proxy, "kobold-stream");
    expect(row).toMatchObject({
      response: text,
      status: "ok",
      stream: 1,
      input_tokens: promptTokens,
      output_tokens: completionTokens,
      usage_estimated: 0,
      finish_reason: "length",
    });
  });

  it("a last event without its blank line still ends the answer; finish_reason stop maps to stop", async () => {
    fake.set({ finalBlankLine: false, finishReason: "stop" });
    const result = await streamed({ model: "kobold", messages: STORY_MESSAGES }, "kobold-no-blank");
    expect(result.contents).toEqual(CAPTURED_STREAM_PIECES);
    expect(result.finish).toBe("stop");
    expect(result.events.at(-1)).toBe("[DONE]");
    expect((await recordRow(proxy, "kobold-no-blank")).status).toBe("ok");
  });

  it("without prompt_format the default format (chatml) renders the prompt; without max_tokens the deployment's max_output_tokens is max_length", async () => {
    const completion = await client.chat.completions.create({ model: "kobold-default", messages: STORY_MESSAGES });
    expect(completion.choices[0]!.message.content).toBe(CAPTURED_TEXT);
    expect(fake.generations().at(-1)!.body).toMatchObject({ prompt: STORY_CHATML, max_length: 100 });
  });

  it("refuses a prompt over true_max_context_length by KoboldCpp's own token count: 400, nothing generated, recorded", async () => {
    fake.set({ maxContext: 40 });
    const before = fake.generations().length;
    const answer = await chat(
      proxy,
      { model: "kobold-ctx", messages: [{ role: "user", content: "word ".repeat(30).trim() }], max_tokens: 16 },
      { "x-request-id": "kobold-ctx" },
    );
    expect(answer.status).toBe(400);
    const error = openAIError(answer);
    expect(error.code).toBe("context_length_exceeded");
    const prompt = "<|im_start|>user\n" + "word ".repeat(30).trim() + "<|im_end|>\n<|im_start|>assistant\n";
    const counted = fakeTokenize(prompt, true).length;
    expect(fake.requests.filter((r) => r.path === "/api/extra/tokencount").at(-1)!.body).toEqual({
      prompt,
      special: true,
    });
    expect(error.message).toContain("maximum context length is 40 tokens");
    expect(error.message).toContain(`${counted} in the messages, 16 in the completion`);
    expect(fake.generations().length).toBe(before);
    expect(await recordRow(proxy, "kobold-ctx")).toMatchObject({ status: "error", http_status: 400 });
  });

  it("a stream the server closes before its final event: the partial answer, an in-band upstream_truncated error, no [DONE]; recorded as truncated", async () => {
    fake.set({ closeAfterEvents: 2 });
    const result = await streamed({ model: "kobold", messages: STORY_MESSAGES }, "kobold-closed");
    expect(result.contents).toEqual(CAPTURED_STREAM_PIECES.slice(0, 2));
    expect(result.events).not.toContain("[DONE]");
    expect(result.error?.code).toBe("upstream_truncated");
    expect(await recordRow(proxy, "kobold-closed")).toMatchObject({
      status: "truncated",
      response: CAPTURED_STREAM_PIECES.slice(0, 2).join(""),
    });
  });

  it("a busy server's 503 reaches the client as 503 with KoboldCpp's message, streaming or not", async () => {
    fake.set({ busy: true });
    const answer = await chat(proxy, { model: "kobold", messages: STORY_MESSAGES }, { "x-request-id": "kobold-busy" });
    expect(answer.status).toBe(503);
    const error = openAIError(answer);
    expect(error.message).toBe((JSON.parse(BUSY_BODY) as { detail: { msg: string } }).detail.msg);
    expect(error.type).toBe("service_unavailable");
    expect(await recordRow(proxy, "kobold-busy")).toMatchObject({ status: "error", http_status: 503 });
    const streamedAnswer = await chat(proxy, { model: "kobold", messages: STORY_MESSAGES, stream: true });
    expect(streamedAnswer.status).toBe(503);
  });

  it("KoboldCpp's 500 bad_input is relayed with its status and message", async () => {
    const response = await fetch(`${fake.url}/api/v1/generate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{bad",
    });
    expect(response.status).toBe(500);
    fake.set({ generateError: { status: 500, body: await response.text() } });
    const answer = await chat(proxy, { model: "kobold", messages: STORY_MESSAGES });
    expect(answer.status).toBe(500);
    expect(openAIError(answer)).toMatchObject({ message: "Error parsing input.", type: "bad_input" });
  });

  it("a server that is down: 502 upstream_unreachable, recorded", async () => {
    const answer = await chat(
      proxy,
      { model: "kobold-down", messages: STORY_MESSAGES },
      { "x-request-id": "kobold-down" },
    );
    expect(answer.status).toBe(502);
    expect(openAIError(answer).code).toBe("upstream_unreachable");
    expect(await recordRow(proxy, "kobold-down")).toMatchObject({ status: "error", http_status: 502 });
  });
});
