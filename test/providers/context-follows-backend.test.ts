/**
 * Context windows that follow the backend (issue 17 item 10) and refusals
 * recorded with the count they used, through the real proxy against a
 * loopback fake llama-server: a window learnt from `/props` expires after
 * its TTL (driven by an injected clock, no sleep) and at once after the
 * server's own `exceed_context_size_error` or a connection failure; the
 * proxy's refusal records the `/tokenize` count as `input_tokens`; the
 * server's context error reaches the client in OpenAI's shape with its
 * `n_prompt_tokens` and `n_ctx`, and `n_prompt_tokens` is recorded.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { chat } from "../helpers/exchanges.js";
import { exceedContextBody, startFakeLlamaCpp, type FakeLlamaCpp } from "../helpers/fake-llamacpp.js";
import { startFakeLocalServer, type FakeLocalServer } from "../helpers/fake-openai-local.js";
import { fakeTokenize } from "../helpers/fake-tokenizer.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { rawDeployment, recordRow } from "../helpers/raw-provider.js";
import { rows } from "../helpers/db.js";
import { createClient } from "../../src/index.js";
import { libraryConfig } from "../library/library-helpers.js";

let fake: FakeLlamaCpp;
let openaiLike: FakeLocalServer;
let vllm: FakeLocalServer;
let proxy: TestProxy;
let client: OpenAI;
/** The providers' clock, in ms: tests move it instead of waiting. */
let now = 0;

/** A prompt of `words` one-token words (the fakes' tokenizer: one token per word). */
function words(count: number): string {
  return Array.from({ length: count }, (_, i) => `w${i}`).join(" ");
}
/** The chatml rendering of one user message, as the `llamacpp` deployments send it. */
function chatml(user: string): string {
  return `<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`;
}
const propsCalls = () => fake.requests.filter((r) => r.path === "/props").length;

beforeAll(async () => {
  fake = await startFakeLlamaCpp();
  openaiLike = await startFakeLocalServer("vllm", "stories260K", 4096);
  vllm = await startFakeLocalServer("vllm", "stories260K", 2048);
  proxy = await startTestProxy(
    {
      models: {
        "llama-ttl": rawDeployment("llamacpp", fake.url, { prompt_format: "chatml" }),
        "llama-short-ttl": rawDeployment("llamacpp", fake.url, {
          prompt_format: "chatml",
          context_window_ttl_ms: 5_000,
        }),
        "llama-v1": fakeDeployment(openaiLike.baseUrl),
        "llama-auto": rawDeployment("llamacpp", fake.url, { prompt_format: "auto" }),
        "vllm-ttl": { ...fakeDeployment(vllm.baseUrl), provider: "vllm" as const, model: "stories260K" },
      },
    },
    { providerClock: () => now },
  );
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
  await openaiLike.close();
  await vllm.close();
});
beforeEach(() => {
  fake.set({});
  openaiLike.behave({ kind: "ok" });
});

describe("a discovered context window follows the backend", () => {
  it("a server restarted from n_ctx 2048 to 4096: refused while the window is fresh, accepted once its TTL has passed; the refusal records the /tokenize count", async () => {
    const user = words(100);
    const promptTokens = fakeTokenize(chatml(user), true).length;
    const body = { model: "llama-ttl", messages: [{ role: "user", content: user }], max_tokens: 2000 };
    fake.set({ nCtx: 2048 });

    const refused = await chat(proxy, body, { "x-request-id": "ttl-refused" });
    expect(refused.status).toBe(400);
    const error = (refused.json as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("context_length_exceeded");
    expect(error.message).toContain("maximum context length is 2048 tokens");
    expect(error.message).toContain(`(${promptTokens} in the messages, 2000 in the completion)`);
    // The count the proxy refused with, from the server's /tokenize, not gpt-tokenizer's estimate.
    expect(await recordRow(proxy, "ttl-refused")).toMatchObject({
      status: "error",
      http_status: 400,
      input_tokens: promptTokens,
      output_tokens: 0,
      usage_estimated: 0,
    });

    fake.set({ nCtx: 4096 });
    const asked = propsCalls();
    now += 59_000;
    expect((await chat(proxy, body, { "x-request-id": "ttl-still-fresh" })).status).toBe(400);
    expect(propsCalls()).toBe(asked);

    now += 1_001;
    const completions = fake.completions().length;
    const accepted = await client.chat.completions.create({
      model: "llama-ttl",
      messages: [{ role: "user", content: user }],
      max_tokens: 2000,
    });
    expect(accepted.choices[0]!.message.content).not.toBe("");
    expect(accepted.usage?.prompt_tokens).toBe(promptTokens);
    expect(propsCalls()).toBe(asked + 1);
    expect(fake.completions().length).toBe(completions + 1);
  });

  it("the deployment's context_window_ttl_ms sets the TTL", async () => {
    fake.set({ nCtx: 2048 });
    const body = { model: "llama-short-ttl", messages: [{ role: "user", content: words(100) }], max_tokens: 2000 };
    expect((await chat(proxy, body)).status).toBe(400);
    fake.set({ nCtx: 4096 });
    now += 4_999;
    expect((await chat(proxy, body)).status).toBe(400);
    now += 2;
    expect((await chat(proxy, body)).status).toBe(200);
  });

  it("the server's own exceed_context_size_error: relayed in OpenAI's shape with n_prompt_tokens and n_ctx, recorded with n_prompt_tokens, and the window is asked again at once", async () => {
    now += 120_000;
    fake.set({ nCtx: 4096, enforceContext: true });
    expect(
      (await chat(proxy, { model: "llama-ttl", messages: [{ role: "user", content: "Hi" }], max_tokens: 8 })).status,
    ).toBe(200);

    // Restarted with -c 256: the proxy still trusts 4096 and sends the prompt; the server refuses it.
    fake.set({ nCtx: 256, enforceContext: true });
    const user = words(300);
    const serverCount = fakeTokenize(chatml(user), true).length;
    const body = { model: "llama-ttl", messages: [{ role: "user", content: user }], max_tokens: 16 };
    const completions = fake.completions().length;
    const relayed = await chat(proxy, body, { "x-request-id": "server-refused" });
    expect(fake.completions().length).toBe(completions + 1);
    expect(relayed.status).toBe(400);
    expect(relayed.json).toEqual({
      error: {
        message: `request (${serverCount} tokens) exceeds the available context size (256 tokens), try increasing it`,
        type: "invalid_request_error",
        param: "messages",
        code: "context_length_exceeded",
        n_prompt_tokens: serverCount,
        n_ctx: 256,
      },
    });
    expect(await recordRow(proxy, "server-refused")).toMatchObject({
      status: "error",
      http_status: 400,
      input_tokens: serverCount,
      usage_estimated: 0,
    });

    // No clock change: the next request is checked against the new window, and nothing is sent.
    const asked = propsCalls();
    const again = await chat(proxy, body, { "x-request-id": "proxy-refused" });
    expect(again.status).toBe(400);
    expect((again.json as { error: { message: string } }).error.message).toContain(
      "maximum context length is 256 tokens",
    );
    expect(propsCalls()).toBe(asked + 1);
    expect(fake.completions().length).toBe(completions + 1);
  });

  it("a connection failure drops the window at once: the next request asks /props again", async () => {
    now += 120_000;
    fake.set({ nCtx: 4096 });
    expect(
      (await chat(proxy, { model: "llama-ttl", messages: [{ role: "user", content: "Hi" }], max_tokens: 8 })).status,
    ).toBe(200);
    const asked = propsCalls();
    fake.set({ nCtx: 4096, dieAfterEvents: 1 });
    const broken = await chat(
      proxy,
      { model: "llama-ttl", stream: true, messages: [{ role: "user", content: "Hi" }], max_tokens: 8 },
      { "x-request-id": "conn-broken" },
    );
    expect(broken.text).toContain("upstream_unreachable");
    expect(propsCalls()).toBe(asked);
    fake.set({ nCtx: 4096 });
    expect(
      (await chat(proxy, { model: "llama-ttl", messages: [{ role: "user", content: "Hi" }], max_tokens: 8 })).status,
    ).toBe(200);
    expect(propsCalls()).toBe(asked + 1);
  });
});

describe("vLLM's max_model_len follows the server", () => {
  const modelsCalls = () => vllm.requestsTo("/v1/models").length;
  const body = { model: "vllm-ttl", messages: [{ role: "user", content: "Hi" }], max_tokens: 2000 };

  it("restarted with a longer --max-model-len: refused until the TTL passes; a connection failure drops the window at once", async () => {
    vllm.setTokenCount(100);
    vllm.setContextLength(2048);
    expect((await chat(proxy, body)).status).toBe(400);
    vllm.setContextLength(4096);
    expect((await chat(proxy, body)).status).toBe(400);
    now += 60_000;
    expect((await chat(proxy, body)).status).toBe(200);

    const asked = modelsCalls();
    vllm.behave({ kind: "reset-after", events: 1 });
    const broken = await chat(proxy, { ...body, stream: true });
    expect(broken.text).toContain("upstream_unreachable");
    vllm.behave({ kind: "ok" });
    vllm.setContextLength(2048);
    expect((await chat(proxy, body)).status).toBe(400);
    expect(modelsCalls()).toBe(asked + 1);
  });
});

describe("a discovered chat template follows the backend (prompt_format: auto)", () => {
  it("a server restarted with another model's template: the old one until the TTL passes, then the new one", async () => {
    now += 120_000;
    const body = { model: "llama-auto", messages: [{ role: "user", content: "Hi" }], max_tokens: 8 };
    expect((await chat(proxy, body)).status).toBe(200);
    expect(fake.completions().at(-1)!.body!.prompt).toBe(chatml("Hi"));

    fake.set({
      chatTemplate: "{% for message in messages %}<|user|>\n{{ message['content'] }}\n{% endfor %}<|assistant|>\n",
    });
    expect((await chat(proxy, body)).status).toBe(200);
    expect(fake.completions().at(-1)!.body!.prompt).toBe(chatml("Hi"));
    now += 60_000;
    expect((await chat(proxy, body)).status).toBe(200);
    expect(fake.completions().at(-1)!.body!.prompt).toBe("<|user|>\nHi\n<|assistant|>");
  });
});

describe("an OpenAI-compatible upstream's exceed_context_size_error", () => {
  it("is relayed as 400 context_length_exceeded with n_prompt_tokens and n_ctx, and the record's input_tokens is n_prompt_tokens", async () => {
    openaiLike.behave({ kind: "status", status: 400, body: exceedContextBody(643, 256) });
    const answer = await chat(
      proxy,
      { model: "llama-v1", messages: [{ role: "user", content: "a long story" }] },
      { "x-request-id": "v1-refused" },
    );
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      error: {
        message: "request (643 tokens) exceeds the available context size (256 tokens), try increasing it",
        type: "invalid_request_error",
        param: "messages",
        code: "context_length_exceeded",
        n_prompt_tokens: 643,
        n_ctx: 256,
      },
    });
    expect(await recordRow(proxy, "v1-refused")).toMatchObject({
      status: "error",
      http_status: 400,
      input_tokens: 643,
      output_tokens: 0,
      usage_estimated: 0,
    });

    const sdkError = await client.chat.completions
      .create({ model: "llama-v1", messages: [{ role: "user", content: "a long story" }] })
      .catch((e: unknown) => e);
    expect(sdkError).toBeInstanceOf(OpenAI.BadRequestError);
    expect((sdkError as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("context_length_exceeded");
  });
});

describe("an in-process (library) call refused for its size", () => {
  it("records the /tokenize count it was refused with, not estimated", async () => {
    fake.set({ nCtx: 2048 });
    const library = createClient({
      config: libraryConfig(proxy.dbPath, {
        "llama-lib": rawDeployment("llamacpp", fake.url, { prompt_format: "chatml" }),
      }),
    });
    try {
      const user = words(100);
      const response = await library.generateCompletion(user, { model: "llama-lib", maxTokens: 2000 });
      expect(response.success).toBe(false);
      expect(response.error).toContain("context length");
      const [row] = rows<{ input_tokens: number; usage_estimated: number; http_status: number }>(
        proxy.dbPath,
        "select r.input_tokens, x.usage_estimated, x.http_status from responses r join llm_relay_exchanges x on x.response_id = r.id where r.id = ?",
        response.id,
      );
      expect(row).toEqual({
        input_tokens: fakeTokenize(chatml(user), true).length,
        usage_estimated: 0,
        http_status: 400,
      });
    } finally {
      await library.close();
    }
  });
});
