/**
 * KoboldCpp's stops and counts (issue 17 item 8), through the real proxy
 * against the loopback fake KoboldCpp (../shared/fixtures/protocols/koboldcpp.txt):
 * a generation ended by a stop string, which KoboldCpp reports as `length`
 * (its `/api/extra/perf` says `stop_reason: 2`), is `stop` for the client
 * and the record; the fixed 100/100 usage of its `/v1/chat/completions`,
 * reached through an `openai-compatible` deployment, is replaced by counts
 * from `/api/extra/tokencount` (or the proxy's estimate, flagged), the
 * server being recognised once from `/api/extra/version`.
 */
import http from "node:http";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  CAPTURED_STREAM_PIECES,
  CAPTURED_TEXT,
  KOBOLD_FAKE_USAGE,
  koboldDefaultAdapterPrompt,
  startFakeKoboldCpp,
  type FakeKoboldCpp,
} from "../helpers/fake-koboldcpp.js";
import { fakeTokenize } from "../helpers/fake-tokenizer.js";
import { listenOnLoopback } from "../helpers/loopback-server.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { STORY_MESSAGES, rawDeployment, recordRow } from "../helpers/raw-provider.js";
import { readSse } from "../helpers/sse.js";
import { handled } from "../helpers/async-handler.js";

let fake: FakeKoboldCpp;
/** A non-KoboldCpp server whose answers happen to carry usage 100/100/200. */
let lookalike: { url: string; versionAsked: number; close(): Promise<void> };
let proxy: TestProxy;
let client: OpenAI;

async function startLookalike(): Promise<typeof lookalike> {
  const state = { versionAsked: 0 };
  const server = http.createServer(
    handled(async (req, res) => {
      for await (const _ of req) void _;
      if (req.url === "/api/extra/version") {
        state.versionAsked += 1;
        res.writeHead(404, { "content-type": "application/json" }).end('{"detail":"Not Found"}');
        return;
      }
      const answer = {
        id: "chatcmpl-1",
        object: "chat.completion",
        created: 1,
        model: "m",
        choices: [{ index: 0, message: { role: "assistant", content: "Hello" }, finish_reason: "length" }],
        usage: { prompt_tokens: 100, completion_tokens: 100, total_tokens: 200 },
      };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
    }),
  );
  const listening = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${listening.port}/v1`,
    get versionAsked() {
      return state.versionAsked;
    },
    close: () => listening.close(),
  };
}

beforeAll(async () => {
  fake = await startFakeKoboldCpp();
  lookalike = await startLookalike();
  proxy = await startTestProxy({
    models: {
      kobold: rawDeployment("koboldcpp", fake.url, { prompt_format: "chatml" }),
      // Its own deployment: the window another deployment learnt is kept for the TTL.
      "kobold-ctx": rawDeployment("koboldcpp", fake.url, { prompt_format: "chatml" }),
      "kobold-v1": fakeDeployment(`${fake.url}/v1`, { model: "koboldcpp/stories260K" }),
      lookalike: fakeDeployment(lookalike.url),
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
  await lookalike.close();
});
beforeEach(() => fake.set({}));

const perfCalls = () => fake.requests.filter((r) => r.path === "/api/extra/perf").length;

/** A streamed answer read with fetch: contents and finish reason. */
async function streamed(body: Record<string, unknown>, requestId: string) {
  const response = await fetch(`${proxy.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": requestId },
    body: JSON.stringify({ stream: true, ...body }),
  });
  expect(response.status).toBe(200);
  const chunks = (await readSse(response))
    .filter((e) => e !== "[DONE]")
    .map((e) => JSON.parse(e) as { choices?: { delta: { content?: string }; finish_reason: string | null }[] });
  return {
    text: chunks.map((c) => c.choices?.[0]?.delta.content ?? "").join(""),
    finish: chunks.map((c) => c.choices?.[0]?.finish_reason).find((f) => f) ?? null,
  };
}

describe("koboldcpp provider: a stop string is a stop", () => {
  it("a generation ended by a stop string (KoboldCpp: length, perf stop_reason 2) is finish_reason stop, answered and recorded", async () => {
    fake.set({ stoppedAt: "THE END" });
    const completion = await client.chat.completions.create(
      { model: "kobold", messages: STORY_MESSAGES, max_tokens: 64, stop: ["THE END"] },
      { headers: { "x-request-id": "kobold-stopped" } },
    );
    expect(completion.choices[0]!.message.content).toBe(CAPTURED_TEXT);
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect(await recordRow(proxy, "kobold-stopped")).toMatchObject({
      response: CAPTURED_TEXT,
      finish_reason: "stop",
      status: "ok",
    });
  });

  it("streamed, too", async () => {
    fake.set({ stoppedAt: "THE END" });
    const result = await streamed(
      { model: "kobold", messages: STORY_MESSAGES, max_tokens: 64, stop: ["THE END"] },
      "kobold-stopped-stream",
    );
    expect(result.text).toBe(CAPTURED_STREAM_PIECES.join(""));
    expect(result.finish).toBe("stop");
    expect(await recordRow(proxy, "kobold-stopped-stream")).toMatchObject({ finish_reason: "stop", stream: 1 });
  });

  it("a stop string left in the answer (a server that ignores trim_stop) is a stop without asking perf", async () => {
    fake.set({ stoppedAt: "THE END", noPerf: true, ignoresTrimStop: true });
    const completion = await client.chat.completions.create({
      model: "kobold",
      messages: STORY_MESSAGES,
      max_tokens: 64,
      stop: ["THE END"],
    });
    expect(completion.choices[0]!.message.content).toBe(`${CAPTURED_TEXT}THE END`);
    expect(completion.choices[0]!.finish_reason).toBe("stop");
  });

  it("out of tokens stays length: perf says 0; an answer of max_length tokens is length without asking", async () => {
    const perfBefore = perfCalls();
    const limited = await client.chat.completions.create(
      { model: "kobold", messages: STORY_MESSAGES, max_tokens: 64 },
      { headers: { "x-request-id": "kobold-length" } },
    );
    expect(limited.choices[0]!.finish_reason).toBe("length");
    expect(perfCalls()).toBe(perfBefore + 1);
    expect((await recordRow(proxy, "kobold-length")).finish_reason).toBe("length");

    const exact = fakeTokenize(CAPTURED_TEXT, false).length;
    const full = await client.chat.completions.create({ model: "kobold", messages: STORY_MESSAGES, max_tokens: exact });
    expect(full.choices[0]!.finish_reason).toBe("length");
    expect(perfCalls()).toBe(perfBefore + 1);
  });

  it("a server without /api/extra/perf keeps KoboldCpp's own reason", async () => {
    fake.set({ stoppedAt: "THE END", noPerf: true });
    const completion = await client.chat.completions.create({
      model: "kobold",
      messages: STORY_MESSAGES,
      max_tokens: 64,
      stop: ["THE END"],
    });
    expect(completion.choices[0]!.finish_reason).toBe("length");
  });
});

describe("koboldcpp provider: a refusal records the count it used", () => {
  it("a prompt over true_max_context_length: 400, and input_tokens is KoboldCpp's tokencount, not estimated", async () => {
    fake.set({ maxContext: 40 });
    const user = "word ".repeat(30).trim();
    const answer = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "kobold-refused" },
      body: JSON.stringify({ model: "kobold-ctx", messages: [{ role: "user", content: user }], max_tokens: 16 }),
    });
    expect(answer.status).toBe(400);
    const counted = fakeTokenize(`<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`, true).length;
    expect(((await answer.json()) as { error: { message: string } }).error.message).toContain(
      `${counted} in the messages`,
    );
    expect(await recordRow(proxy, "kobold-refused")).toMatchObject({
      status: "error",
      http_status: 400,
      input_tokens: counted,
      output_tokens: 0,
      usage_estimated: 0,
    });
  });
});

describe("KoboldCpp's fake /v1 usage behind an openai-compatible deployment", () => {
  it("100/100 is replaced by /api/extra/tokencount counts (client and record, not estimated); the server is recognised once", async () => {
    const text = CAPTURED_STREAM_PIECES.join("");
    const promptTokens = fakeTokenize(koboldDefaultAdapterPrompt(STORY_MESSAGES), true).length;
    const completionTokens = fakeTokenize(text, false).length;
    expect(KOBOLD_FAKE_USAGE).toEqual({ prompt_tokens: 100, completion_tokens: 100, total_tokens: 200 });

    const first = await client.chat.completions.create(
      { model: "kobold-v1", messages: STORY_MESSAGES },
      { headers: { "x-request-id": "kobold-v1-first" } },
    );
    expect(first.choices[0]!.message.content).toBe(text);
    expect(first.usage).toEqual({
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    });
    expect(first.choices[0]!.finish_reason).toBe("length");
    expect(await recordRow(proxy, "kobold-v1-first")).toMatchObject({
      provider: "openai-compatible",
      input_tokens: promptTokens,
      output_tokens: completionTokens,
      usage_estimated: 0,
      finish_reason: "length",
    });

    await client.chat.completions.create(
      { model: "kobold-v1", messages: STORY_MESSAGES },
      { headers: { "x-request-id": "kobold-v1-second" } },
    );
    expect(await recordRow(proxy, "kobold-v1-second")).toMatchObject({
      input_tokens: promptTokens,
      output_tokens: completionTokens,
      usage_estimated: 0,
    });
    expect(fake.requests.filter((r) => r.path === "/api/extra/version")).toHaveLength(1);
    expect(fake.requests.filter((r) => r.path === "/api/extra/tokencount").map((r) => r.body)).toContainEqual({
      prompt: koboldDefaultAdapterPrompt(STORY_MESSAGES),
      special: true,
    });
  });

  it("a /v1 generation ended by a stop string is finish_reason stop", async () => {
    fake.set({ stoppedAt: "\n\n" });
    const completion = await client.chat.completions.create(
      { model: "kobold-v1", messages: STORY_MESSAGES, stop: ["\n\n"] },
      { headers: { "x-request-id": "kobold-v1-stop" } },
    );
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect((await recordRow(proxy, "kobold-v1-stop")).finish_reason).toBe("stop");
  });

  it("when tokencount fails the counts are the proxy's estimate, flagged estimated", async () => {
    fake.set({ noTokenCount: true });
    const completion = await client.chat.completions.create(
      { model: "kobold-v1", messages: STORY_MESSAGES },
      { headers: { "x-request-id": "kobold-v1-estimated" } },
    );
    expect(completion.usage?.prompt_tokens).not.toBe(100);
    const row = await recordRow(proxy, "kobold-v1-estimated");
    expect(row.usage_estimated).toBe(1);
    expect(row.input_tokens).toBe(completion.usage?.prompt_tokens);
    expect(row.input_tokens).not.toBe(100);
  });

  it("a /v1 stream (no usage chunk from KoboldCpp) gets one counted with tokencount: sent when asked for, recorded either way", async () => {
    const text = CAPTURED_STREAM_PIECES.join("");
    const usage = {
      prompt_tokens: fakeTokenize(koboldDefaultAdapterPrompt(STORY_MESSAGES), true).length,
      completion_tokens: fakeTokenize(text, false).length,
    };
    const stream = await client.chat.completions.create(
      { model: "kobold-v1", messages: STORY_MESSAGES, stream: true, stream_options: { include_usage: true } },
      { headers: { "x-request-id": "kobold-v1-stream" } },
    );
    let streamedText = "";
    let streamedUsage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      streamedText += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) streamedUsage = chunk.usage;
    }
    expect(streamedText).toBe(text);
    expect(streamedUsage).toEqual({ ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens });
    expect(await recordRow(proxy, "kobold-v1-stream")).toMatchObject({
      response: text,
      input_tokens: usage.prompt_tokens,
      output_tokens: usage.completion_tokens,
      usage_estimated: 0,
      stream: 1,
      finish_reason: "length",
    });

    const response = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "kobold-v1-stream-quiet" },
      body: JSON.stringify({ model: "kobold-v1", messages: STORY_MESSAGES, stream: true }),
    });
    const events = await readSse(response);
    expect(events.filter((e) => e.includes('"usage"'))).toEqual([]);
    expect(await recordRow(proxy, "kobold-v1-stream-quiet")).toMatchObject({
      input_tokens: usage.prompt_tokens,
      output_tokens: usage.completion_tokens,
      usage_estimated: 0,
    });
  });

  it("a /v1 stream whose tokens cannot be counted gets no usage chunk, and the record is estimated", async () => {
    fake.set({ noTokenCount: true });
    const stream = await client.chat.completions.create(
      { model: "kobold-v1", messages: STORY_MESSAGES, stream: true, stream_options: { include_usage: true } },
      { headers: { "x-request-id": "kobold-v1-stream-estimated" } },
    );
    let sawUsage = false;
    for await (const chunk of stream) if (chunk.usage) sawUsage = true;
    expect(sawUsage).toBe(false);
    expect((await recordRow(proxy, "kobold-v1-stream-estimated")).usage_estimated).toBe(1);
  });

  it("another server answering 100/100 is asked once whether it is KoboldCpp, and its usage is kept", async () => {
    for (const id of ["lookalike-1", "lookalike-2"]) {
      const completion = await client.chat.completions.create(
        { model: "lookalike", messages: STORY_MESSAGES },
        { headers: { "x-request-id": id } },
      );
      expect(completion.usage).toEqual({ prompt_tokens: 100, completion_tokens: 100, total_tokens: 200 });
      expect(await recordRow(proxy, id)).toMatchObject({ input_tokens: 100, output_tokens: 100, usage_estimated: 0 });
    }
    expect(lookalike.versionAsked).toBe(1);
  });
});
