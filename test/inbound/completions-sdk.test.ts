/**
 * Legacy completions inbound (`POST /v1/completions`, issue 20 item 3) with the `openai` SDK's
 * `client.completions.create` as the client: to `echo` and to an OpenAI-compatible chat upstream (the prompt
 * arrives as one user message), streamed and not, `echo`, `logprobs`, several prompts, the errors in OpenAI's
 * shape, and the record (protocol `completions`, the prompt as the user text, the usage).
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { until } from "../helpers/until.js";
import { deploymentDefaults } from "../../src/config/schema.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { startChatScriptUpstream, type ChatScriptUpstream } from "./helpers/chat-script-upstream.js";

let upstream: ChatScriptUpstream;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  upstream = await startChatScriptUpstream();
  // No default model: `anything` is the built-in echo, and a name nothing serves is a 404.
  proxy = await startTestProxy({
    defaultModel: null,
    models: { chat: fakeDeployment(upstream.baseUrl), anything: deploymentDefaults("echo") },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

/** The recorded exchange of a request id: its llm row and our protocol column. */
async function recordOf(requestId: string) {
  await proxy.server.ctx.recorder.flush();
  return rows<{
    prompt: string;
    response: string;
    input_tokens: number;
    output_tokens: number;
    protocol: string;
    stream: number;
    prompt_json: string;
    status: string;
  }>(
    proxy.dbPath,
    `SELECT r.prompt, r.response, r.input_tokens, r.output_tokens, r.prompt_json, e.protocol, e.stream, e.status
       FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id WHERE e.request_id = ?`,
    requestId,
  );
}

/** The text, finish reasons and last usage of a legacy stream, and every chunk. */
async function readStream(stream: AsyncIterable<OpenAI.Completion>) {
  const chunks: OpenAI.Completion[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return {
    chunks,
    text: chunks.flatMap((c) => c.choices.map((choice) => choice.text)).join(""),
    finishes: chunks.flatMap((c) =>
      c.choices.flatMap((choice) => (choice.finish_reason ? [choice.finish_reason] : [])),
    ),
    usage: chunks.at(-1)?.usage ?? null,
  };
}

describe("to echo", () => {
  it("answers a text_completion with the prompt echoed back, and records it as protocol completions", async () => {
    const prompt = "Say this is a test";
    const completion = await client.completions.create(
      { model: "anything", prompt },
      { headers: { "x-request-id": "cmpl-echo-1" } },
    );
    expect(completion).toMatchObject({
      object: "text_completion",
      model: "anything",
      choices: [{ text: prompt, index: 0, logprobs: null, finish_reason: "stop" }],
    });
    expect(completion.id).toMatch(/^cmpl-[0-9a-z]{26}$/);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);

    const [row] = await recordOf("cmpl-echo-1");
    expect(row).toMatchObject({ prompt, response: prompt, protocol: "completions", stream: 0, status: "ok" });
    expect(row!.output_tokens).toBe(completion.usage!.completion_tokens);
    expect(JSON.parse(row!.prompt_json)).toMatchObject({ model: "anything", prompt });
  });

  it("streams text_completion chunks, the usage last with include_usage, then [DONE]", async () => {
    const prompt = "one two three four";
    const stream = await client.completions.create(
      { model: "anything", prompt, stream: true, stream_options: { include_usage: true } },
      { headers: { "x-request-id": "cmpl-echo-stream" } },
    );
    const read = await readStream(stream);
    expect(read.text).toBe(prompt);
    expect(read.chunks.length).toBeGreaterThan(2);
    for (const chunk of read.chunks) expect(chunk.object).toBe("text_completion");
    expect(read.finishes).toEqual(["stop"]);
    expect(read.chunks.at(-1)!.choices).toEqual([]);
    expect(read.usage).toMatchObject({ completion_tokens: expect.any(Number) as number });

    const [row] = await recordOf("cmpl-echo-stream");
    expect(row).toMatchObject({ prompt, response: prompt, protocol: "completions", stream: 1 });
  });

  it("ends the stream with data: [DONE] and gives no usage event without include_usage", async () => {
    const response = await fetch(`${proxy.baseURL}/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "anything", prompt: "Hi there", stream: true }),
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const text = await response.text();
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(text).not.toContain('"usage"');
  });

  it("answers several prompts as choices[i] with index i, each its own recorded exchange", async () => {
    const completion = await client.completions.create(
      { model: "anything", prompt: ["first prompt", "second prompt here"] },
      { headers: { "x-request-id": "cmpl-array" } },
    );
    expect(completion.choices).toEqual([
      { text: "first prompt", index: 0, logprobs: null, finish_reason: "stop" },
      { text: "second prompt here", index: 1, logprobs: null, finish_reason: "stop" },
    ]);
    const first = await recordOf("cmpl-array.0");
    const second = await recordOf("cmpl-array.1");
    expect([first[0]?.prompt, second[0]?.prompt]).toEqual(["first prompt", "second prompt here"]);
    expect(completion.usage!.completion_tokens).toBe(first[0]!.output_tokens + second[0]!.output_tokens);

    const stream = await client.completions.create(
      { model: "anything", prompt: ["a b", "c d e"], stream: true, stream_options: { include_usage: true } },
      { headers: { "x-request-id": "cmpl-array-stream" } },
    );
    const read = await readStream(stream);
    const byIndex = (index: number) =>
      read.chunks
        .flatMap((c) => c.choices.filter((choice) => choice.index === index).map((choice) => choice.text))
        .join("");
    expect([byIndex(0), byIndex(1)]).toEqual(["a b", "c d e"]);
    expect(read.finishes).toEqual(["stop", "stop"]);
    expect(new Set(read.chunks.map((c) => c.id)).size).toBe(1);
    // Prompt 0's events (text, then its finish) all come before prompt 1's: relayed as each exchange streams.
    const order = read.chunks.flatMap((c) => c.choices.map((choice) => choice.index));
    expect(order).toEqual([...order].sort());
    const streamed = [...(await recordOf("cmpl-array-stream.0")), ...(await recordOf("cmpl-array-stream.1"))];
    expect(streamed.map((r) => [r.prompt, r.stream])).toEqual([
      ["a b", 1],
      ["c d e", 1],
    ]);
    expect(read.usage).toEqual({
      prompt_tokens: streamed[0]!.input_tokens + streamed[1]!.input_tokens,
      completion_tokens: streamed[0]!.output_tokens + streamed[1]!.output_tokens,
      total_tokens:
        streamed[0]!.input_tokens + streamed[1]!.input_tokens + streamed[0]!.output_tokens + streamed[1]!.output_tokens,
    });
  });
});

describe("to an OpenAI-compatible chat upstream", () => {
  it("sends the prompt as one user message with the sampling fields and the legacy max_tokens default", async () => {
    upstream.enqueue({ text: ["Paris", "."] });
    const completion = await client.completions.create(
      {
        model: "chat",
        prompt: "The capital of France is",
        temperature: 0.3,
        top_p: 0.9,
        stop: ["\n"],
        seed: 7,
        presence_penalty: 0.5,
        frequency_penalty: 0.25,
        user: "u-1",
      },
      { headers: { "x-request-id": "cmpl-chat-1" } },
    );
    expect(completion.choices).toEqual([{ text: "Paris.", index: 0, logprobs: null, finish_reason: "stop" }]);
    expect(completion.usage).toEqual({ prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 });
    expect(upstream.bodies.at(-1)).toMatchObject({
      messages: [{ role: "user", content: "The capital of France is" }],
      max_tokens: 16,
      temperature: 0.3,
      top_p: 0.9,
      stop: ["\n"],
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: 0.25,
      user: "u-1",
    });
    expect(upstream.bodies.at(-1)).not.toHaveProperty("prompt");

    const [row] = await recordOf("cmpl-chat-1");
    expect(row).toMatchObject({
      prompt: "The capital of France is",
      response: "Paris.",
      protocol: "completions",
      input_tokens: 20,
      output_tokens: 5,
    });
  });

  it("maps logprobs (asked as top_logprobs) and echo, with text_offset counted from the echoed prompt", async () => {
    upstream.enqueue({ text: [" Paris", "."], finishReason: "length" });
    const prompt = "Capital:";
    const completion = await client.completions.create({
      model: "chat",
      prompt,
      logprobs: 1,
      echo: true,
      max_tokens: 2,
    });
    expect(upstream.bodies.at(-1)).toMatchObject({ logprobs: true, top_logprobs: 1, max_tokens: 2 });
    expect(completion.choices[0]).toEqual({
      text: "Capital: Paris.",
      index: 0,
      finish_reason: "length",
      logprobs: {
        tokens: [" Paris", "."],
        token_logprobs: [-0.1, -0.2],
        top_logprobs: [{ " Paris": -0.1 }, { ".": -0.2 }],
        text_offset: [prompt.length, prompt.length + " Paris".length],
      },
    });
  });

  it("streams logprobs per chunk and echoes the prompt as the first chunk", async () => {
    upstream.enqueue({ text: ["A", "B"] });
    const stream = await client.completions.create({
      model: "chat",
      prompt: "xy",
      echo: true,
      logprobs: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const read = await readStream(stream);
    expect(read.text).toBe("xyAB");
    const texts = read.chunks.filter((c) => c.choices[0]?.text);
    expect(texts.map((c) => [c.choices[0]!.text, c.choices[0]!.logprobs])).toEqual([
      ["xy", null],
      ["A", { tokens: ["A"], token_logprobs: [-0.1], top_logprobs: [{ A: -0.1, "<alt>": -9 }], text_offset: [2] }],
      ["B", { tokens: ["B"], token_logprobs: [-0.2], top_logprobs: [{ B: -0.2, "<alt>": -9 }], text_offset: [3] }],
    ]);
    expect(read.usage).toEqual({ prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 });
  });
});

describe("errors in OpenAI's shape", () => {
  it("400 for a missing prompt, a token-id prompt and n > 1, naming the field", async () => {
    const missing = await client.completions
      .create({ model: "chat" } as unknown as OpenAI.CompletionCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.BadRequestError);
    expect((missing as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      type: "invalid_request_error",
      param: "prompt",
      code: "missing_required_parameter",
    });
    const tokens = await client.completions.create({ model: "chat", prompt: [1, 2, 3] }).catch((e: unknown) => e);
    expect(tokens).toBeInstanceOf(OpenAI.BadRequestError);
    expect((tokens as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ param: "prompt" });
    const several = await client.completions.create({ model: "chat", prompt: "x", n: 2 }).catch((e: unknown) => e);
    expect((several as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ param: "n" });
  });

  it("several prompts: the first one that fails fails the request with its own status and error", async () => {
    upstream.enqueue({ text: ["ok"] }, { status: 400 });
    const error = await client.completions
      .create({ model: "chat", prompt: ["fine", "refused"] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ message: "scripted failure" });
    expect(upstream.bodies.slice(-2).map((b) => (b.messages as { content: string }[])[0]!.content)).toEqual([
      "fine",
      "refused",
    ]);
  });

  it("several prompts streamed: a prompt that fails after others streamed ends the stream with an error event", async () => {
    upstream.enqueue({ text: ["first ", "answer"] }, { status: 400 });
    const response = await fetch(`${proxy.baseURL}/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "chat", prompt: ["one", "two"], stream: true }),
    });
    expect(response.status).toBe(200);
    const events = (await response.text()).split("\n\n").filter((e) => e !== "");
    const payloads = events.map((e) => JSON.parse(e.slice("data: ".length)) as Record<string, unknown>);
    expect(payloads.at(-1)).toMatchObject({ error: { message: "scripted failure" } });
    const texts = payloads.flatMap((p) => ((p.choices as { text: string }[] | undefined) ?? []).map((c) => c.text));
    expect(texts.join("")).toBe("first answer");
    expect(events.some((e) => e.includes("[DONE]"))).toBe(false);
  });

  it("400 naming suffix for a backend with no fill-in-the-middle (chat upstream, echo); nothing reaches the upstream", async () => {
    const before = upstream.bodies.length;
    for (const model of ["chat", "anything"]) {
      const error = await client.completions
        .create({ model, prompt: "def add(a, b):\n    ", suffix: "\n\nprint(add(1, 2))" })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
        type: "invalid_request_error",
        param: "suffix",
      });
    }
    expect(upstream.bodies.length).toBe(before);
  });

  it("404 for a model nothing serves; the upstream's failure keeps its status; the server keeps serving", async () => {
    const notFound = await client.completions.create({ model: "no-such-model", prompt: "x" }).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(OpenAI.NotFoundError);
    expect((notFound as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({ code: "model_not_found" });
    upstream.enqueue({ status: 400 });
    const failed = await client.completions.create({ model: "chat", prompt: "x" }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.BadRequestError);
    upstream.enqueue({ text: ["still here"] });
    const ok = await client.completions.create({ model: "chat", prompt: "x" });
    expect(ok.choices[0]!.text).toBe("still here");
  });

  it("is billed like chat: a key is required once keys exist, its rpm counts, and the exchange is booked to it", async () => {
    const keyed = await startTestProxy();
    try {
      const key = await keyed.server.ctx.tenancy.keys.create({ tenant: "acme", rpm: 1 });
      const anonymous = new OpenAI({ baseURL: keyed.baseURL, apiKey: "not-a-key", maxRetries: 0 });
      const refused = await anonymous.completions.create({ model: "m", prompt: "x" }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
      const sdk = new OpenAI({ baseURL: keyed.baseURL, apiKey: key.plaintext, maxRetries: 0 });
      const ok = await sdk.completions.create({ model: "m", prompt: "billed prompt" });
      expect(ok.choices[0]!.text).toBe("billed prompt");
      const limited = await sdk.completions.create({ model: "m", prompt: "again" }).catch((e: unknown) => e);
      expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
      await keyed.server.ctx.recorder.flush();
      await until(
        "the ledger row of the completion",
        () => rows(keyed.dbPath, "SELECT key_id FROM llm_relay_usage").length === 1,
      );
      const [booked] = rows<{ key_id: string; tenant_id: string; model: string }>(
        keyed.dbPath,
        "SELECT key_id, tenant_id, model FROM llm_relay_usage",
      );
      expect(booked).toEqual({ key_id: key.key.id, tenant_id: "acme", model: "m" });
    } finally {
      await keyed.close();
    }
  });
});
