/**
 * The `ollama` provider with a `prompt_format` (raw mode): the proxy renders
 * the prompt itself and completes it through `POST /api/generate` with
 * `raw: true`, against the loopback fake Ollama (documented shapes, see
 * test/fixtures/protocols/ollama/). Also the parsing of `/api/show`.
 */
import fs from "node:fs";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deploymentDefaults } from "../../src/config/schema.js";
import {
  DEFAULT_NUM_CTX,
  isJinjaTemplate,
  parseShowResponse,
  resolveNumCtx,
} from "../../src/providers/ollama/ollama-model-info.js";
import type { OllamaShowResponse } from "../../src/providers/ollama/ollama-types.js";
import { closedPort } from "../helpers/exchanges.js";
import {
  GENERATE_COUNTS,
  GENERATE_WHOLE_COUNTS,
  OLLAMA_TEXT,
  startFakeOllama,
  type FakeOllama,
} from "../helpers/fake-ollama.js";
import { localDeployment, recordOf, streamEvents, streamedText } from "../helpers/local-backend-tests.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

/** A Jinja chat template as newer Ollama servers return in /api/show `template` (distinct from every named format). */
const HASH_TEMPLATE =
  "{% for message in messages %}### {{ message['role'] }}: {{ message['content'] }}\n{% endfor %}{% if add_generation_prompt %}### assistant:{% endif %}";
let fake: FakeOllama;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeOllama({ "qwen2.5": { modelfileNumCtx: 4096 }, hashes: { template: HASH_TEMPLATE } });
  const downPort = await closedPort();
  proxy = await startTestProxy({
    models: {
      raw: localDeployment("ollama", fake.baseUrl, { model: "qwen2.5", prompt_format: "chatml" }),
      "raw-small": localDeployment("ollama", fake.baseUrl, {
        model: "qwen2.5",
        prompt_format: "chatml",
        context_window: 40,
      }),
      "raw-auto": localDeployment("ollama", fake.baseUrl, { model: "hashes", prompt_format: "auto" }),
      "raw-auto-go": localDeployment("ollama", fake.baseUrl, { model: "qwen2.5", prompt_format: "auto" }),
      "raw-missing": localDeployment("ollama", fake.baseUrl, { model: "mistral", prompt_format: "chatml" }),
      "raw-down": localDeployment("ollama", `http://127.0.0.1:${downPort}`, {
        model: "qwen2.5",
        prompt_format: "chatml",
      }),
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
  { role: "system" as const, content: "You are terse." },
  { role: "user" as const, content: "Why is the sky blue?" },
];
const CHATML_PROMPT =
  "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhy is the sky blue?<|im_end|>\n<|im_start|>assistant\n";

describe("ollama /api/generate with raw: true", () => {
  it("streams: the rendered ChatML prompt goes with raw: true; stop sequences and num_ctx under options; Ollama's counts recorded", async () => {
    const stream = await client.chat.completions.create(
      { model: "raw", messages, stream: true, stop: "\n\n", max_tokens: 50 },
      { headers: { "x-request-id": "og-stream" } },
    );
    let text = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(OLLAMA_TEXT);
    expect(finish).toBe("stop");
    const sent = fake.requestsTo("/api/generate").at(-1)!.body;
    expect(sent).toEqual({
      model: "qwen2.5",
      prompt: CHATML_PROMPT,
      raw: true,
      stream: true,
      options: { num_ctx: 4096, num_predict: 50, stop: ["\n\n", "<|im_end|>", "<|im_start|>"] },
    });
    expect(fake.requestsTo("/api/chat")).toHaveLength(0);
    const row = await recordOf(proxy, "og-stream");
    expect(row).toMatchObject({
      response: OLLAMA_TEXT,
      input_tokens: GENERATE_COUNTS.prompt,
      output_tokens: GENERATE_COUNTS.completion,
      usage_estimated: 0,
      status: "ok",
      finish_reason: "stop",
    });
  });

  it("non-streaming, done_reason length → finish_reason length", async () => {
    fake.behave({ kind: "ok", doneReason: "length", text: "Because of" });
    const completion = await client.chat.completions.create(
      { model: "raw", messages, temperature: 0 },
      { headers: { "x-request-id": "og-whole" } },
    );
    expect(completion.choices[0]).toMatchObject({
      message: { role: "assistant", content: "Because of" },
      finish_reason: "length",
    });
    expect(completion.usage).toMatchObject({
      prompt_tokens: GENERATE_WHOLE_COUNTS.prompt,
      completion_tokens: GENERATE_WHOLE_COUNTS.completion,
    });
    expect(fake.requestsTo("/api/generate").at(-1)!.body).toMatchObject({
      raw: true,
      stream: false,
      options: { num_ctx: 4096, temperature: 0 },
    });
    const row = await recordOf(proxy, "og-whole");
    expect(row).toMatchObject({ status: "ok", finish_reason: "length", usage_estimated: 0 });
  });

  it("a prompt over the window: 400 context_length_exceeded with both numbers, nothing sent to /api/generate, recorded", async () => {
    const before = fake.requestsTo("/api/generate").length;
    const error = await client.chat.completions
      .create(
        { model: "raw-small", messages: [{ role: "user", content: "tell me a story ".repeat(20) }], max_tokens: 8 },
        { headers: { "x-request-id": "og-toolong" } },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("context_length_exceeded");
    expect((error as Error).message).toMatch(
      /maximum context length is 40 tokens.*\(\d+ \(estimated\) in the messages, 8 in the completion\)/,
    );
    expect(fake.requestsTo("/api/generate").length).toBe(before);
    expect(await recordOf(proxy, "og-toolong")).toMatchObject({ status: "error", http_status: 400 });
  });

  it("a backend that dies mid-stream: partial text, in-band error, recorded as truncated", async () => {
    fake.behave({ kind: "reset-after", lines: 2, text: "once upon a time there was" });
    const { events } = await streamEvents(proxy, { model: "raw", messages }, "og-reset");
    expect(events).not.toContain("[DONE]");
    expect(JSON.parse(events.at(-1)!)).toHaveProperty("error");
    const partial = streamedText(events.slice(0, -1));
    expect(partial.length).toBeGreaterThan(0);
    expect("once upon a time there was".startsWith(partial)).toBe(true);
    expect(await recordOf(proxy, "og-reset")).toMatchObject({ status: "truncated", response: partial });
  });

  it("a backend that is down: 502 upstream_unreachable, recorded", async () => {
    const error = await client.chat.completions
      .create({ model: "raw-down", messages }, { headers: { "x-request-id": "og-down" } })
      .catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe("upstream_unreachable");
    expect(await recordOf(proxy, "og-down")).toMatchObject({ status: "error", http_status: 502 });
  });

  it("prompt_format auto renders with the Jinja template /api/show returned", async () => {
    await client.chat.completions.create({ model: "raw-auto", messages });
    expect(fake.requestsTo("/api/show").some((r) => r.body.model === "hashes")).toBe(true);
    expect(fake.requestsTo("/api/generate").at(-1)!.body).toMatchObject({
      model: "hashes",
      raw: true,
      prompt: "### system: You are terse.\n### user: Why is the sky blue?\n### assistant:",
    });
  });

  it("prompt_format auto with a Go template (not Jinja) falls back to the default format", async () => {
    await client.chat.completions.create({ model: "raw-auto-go", messages });
    expect(fake.requestsTo("/api/generate").at(-1)!.body).toMatchObject({ model: "qwen2.5", prompt: CHATML_PROMPT });
  });

  it("a model that is not pulled: 404 model_not_found", async () => {
    const error = await client.chat.completions.create({ model: "raw-missing", messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");
  });
});

describe("what /api/show tells", () => {
  const show = JSON.parse(
    fs.readFileSync(new URL("../fixtures/protocols/ollama/show-response.json", import.meta.url), "utf8"),
  ) as OllamaShowResponse;
  const deployment = deploymentDefaults("ollama");

  it("reads the trained context from model_info and leaves a Go template alone", () => {
    const facts = parseShowResponse(show);
    expect(facts).toEqual({ trainedContext: 8192, modelfileNumCtx: null, template: null });
    expect(isJinjaTemplate(show.template!)).toBe(false);
  });

  it("takes a Jinja template (as newer servers return for natively run models) for prompt_format auto", () => {
    const jinja =
      "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}";
    expect(parseShowResponse({ ...show, template: jinja }).template).toEqual({
      template: jinja,
      source: "ollama /api/show",
      bosToken: null,
      eosToken: null,
    });
  });

  it("picks num_ctx: config, then extra_body.options.num_ctx, then the Modelfile, then the trained context capped, then the default", () => {
    const facts = { trainedContext: 131072, modelfileNumCtx: null, template: null };
    expect(resolveNumCtx({ ...deployment, context_window: 32768 }, facts)).toBe(32768);
    expect(resolveNumCtx({ ...deployment, extra_body: { options: { num_ctx: 16384 } } }, facts)).toBe(16384);
    expect(resolveNumCtx(deployment, { ...facts, modelfileNumCtx: 4096 })).toBe(4096);
    expect(resolveNumCtx(deployment, facts)).toBe(DEFAULT_NUM_CTX);
    expect(resolveNumCtx(deployment, { ...facts, trainedContext: 2048 })).toBe(2048);
    expect(resolveNumCtx(deployment, null)).toBe(DEFAULT_NUM_CTX);
  });
});
