/**
 * The `local` provider against a real GGUF model run in-process by
 * node-llama-cpp (../shared/models/stories260K.gguf, a 260K-parameter
 * TinyStories Llama with no chat template, so prompts are ChatML), through
 * the real proxy and the openai SDK: streamed and whole answers with the
 * model's own token counts recorded, finish reasons, the context-window
 * refusal, concurrent requests on one model, a client that leaves mid-stream,
 * a relative model_path and a missing model file.
 *
 * The deployments use 1 thread: on a 2-core machine that is also running
 * other tests, 2 threads spin against the other load and generate about 30×
 * slower (measured: 100 tokens in 33 ms with 1 thread, 1.2 s with 2).
 */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  getLlama,
  LlamaLogLevel,
  type LlamaCompletionOptions,
  type LlamaContextSequence,
  type LlamaModel,
} from "node-llama-cpp";
import OpenAI from "openai";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentDefaults, type Deployment } from "../../src/config/schema.js";
import { chatml } from "../../src/prompt-formats/chatml.js";
import { createLocalProvider } from "../../src/providers/local/local-provider.js";
import type { NodeLlamaCppImport } from "../../src/providers/local/node-llama.js";
import { countTextTokens } from "../../src/tokens/count.js";
import { rows } from "../helpers/db.js";
import { chat, openAIError, recordedExchange, recordedExchanges } from "../helpers/exchanges.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

const MODEL_PATH = fileURLToPath(new URL("../../../shared/models/stories260K.gguf", import.meta.url));
const WINDOW = 512;

function local(extra: Partial<Deployment> = {}): Deployment {
  return { ...deploymentDefaults("local"), model_path: MODEL_PATH, threads: 1, context_window: WINDOW, ...extra };
}

const messages = [
  { role: "system" as const, content: "You tell short stories." },
  { role: "user" as const, content: "Once upon a time" },
];

let proxy: TestProxy;
let client: OpenAI;
/** The same model, loaded by the test itself, to count tokens with its own tokenizer. */
let reference: LlamaModel;

/** Tokens llama.cpp evaluates for `prompt`: the model's tokenizer (special tokens parsed), plus the BOS the model asks for. */
function modelTokens(prompt: string): number {
  expect(reference.tokens.shouldPrependBosToken).toBe(true);
  return reference.tokenize(prompt, true).length + 1;
}

/** The prompt the proxy renders for `messages`: the GGUF has no chat template, so ChatML, without BOS text (llama.cpp adds the token). */
function renderedPrompt(list: typeof messages): string {
  return chatml.render(list, { bos: false });
}

beforeAll(async () => {
  proxy = await startTestProxy({
    models: {
      tiny: local(),
      "tiny-long": local({ context_window: 2048 }),
      "tiny-missing": local({ model_path: "no-such-model.gguf" }),
      "tiny-deadline": local({ context_window: 2048, total_timeout_ms: 250 }),
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
  const llama = await getLlama({ build: "never", logLevel: LlamaLogLevel.error });
  reference = await llama.loadModel({ modelPath: MODEL_PATH });
});
afterAll(async () => {
  await proxy?.close();
  await reference?.dispose();
});

async function recordedTokens(requestId: string): Promise<{
  response: string;
  input_tokens: number;
  output_tokens: number;
  usage_estimated: number;
  status: string;
  provider: string;
}> {
  await proxy.server.ctx.recorder.flush();
  const [row] = rows<{
    response: string;
    input_tokens: number;
    output_tokens: number;
    usage_estimated: number;
    status: string;
    provider: string;
  }>(
    proxy.dbPath,
    "select r.response, r.input_tokens, r.output_tokens, x.usage_estimated, x.status, x.provider from responses r join llm_relay_exchanges x on x.response_id = r.id where x.request_id = ?",
    requestId,
  );
  expect(row, `no record for ${requestId}`).toBeDefined();
  return row!;
}

describe("local provider (node-llama-cpp, stories260K.gguf)", () => {
  it("streams a completion through the openai SDK and records it with the model's token counts", async () => {
    const stream = await client.chat.completions.create(
      { model: "tiny", messages, stream: true, max_tokens: 24, stream_options: { include_usage: true } },
      { headers: { "x-request-id": "local-stream-1" } },
    );
    let text = "";
    let contentChunks = 0;
    let finishReason: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) {
        contentChunks++;
        text += choice.delta.content;
      }
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.trim()).not.toBe("");
    expect(contentChunks).toBeGreaterThan(3);
    expect(finishReason).toBe("length");
    const promptTokens = modelTokens(renderedPrompt(messages));
    // The model's count, not gpt-tokenizer's estimate of the same prompt.
    expect(promptTokens).not.toBe(countTextTokens(renderedPrompt(messages)));
    expect(usage).toEqual({ prompt_tokens: promptTokens, completion_tokens: 24, total_tokens: promptTokens + 24 });
    const row = await recordedTokens("local-stream-1");
    expect(row).toEqual({
      response: text,
      input_tokens: promptTokens,
      output_tokens: 24,
      usage_estimated: 0,
      status: "ok",
      provider: "local",
    });
  });

  it("answers a non-streaming request; a stop sequence ends it with finish_reason stop", async () => {
    const completion = await client.chat.completions.create(
      { model: "tiny", messages, max_tokens: 48, stop: ["."] },
      { headers: { "x-request-id": "local-whole-1" } },
    );
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("stop");
    expect(choice.message.role).toBe("assistant");
    const content = choice.message.content ?? "";
    expect(content.trim()).not.toBe("");
    expect(content).not.toContain(".");
    const promptTokens = modelTokens(renderedPrompt(messages));
    expect(completion.usage?.prompt_tokens).toBe(promptTokens);
    // Generated tokens include the one that completed the stop sequence, so at least the text's own tokens, and fewer than max_tokens.
    const completionTokens = completion.usage!.completion_tokens;
    expect(completionTokens).toBeGreaterThanOrEqual(reference.tokenize(content).length);
    expect(completionTokens).toBeLessThan(48);
    const row = await recordedTokens("local-whole-1");
    expect(row).toEqual({
      response: content,
      input_tokens: promptTokens,
      output_tokens: completionTokens,
      usage_estimated: 0,
      status: "ok",
      provider: "local",
    });
  });

  it("serialises concurrent requests on one model: each gets the same greedy answer as alone", async () => {
    const starts = ["The little dog", "Lily and Ben", "Tom was sad"];
    const ask = (i: number) =>
      client.chat.completions.create({
        model: "tiny",
        messages: [{ role: "user", content: starts[i]! }],
        max_tokens: 20,
        temperature: 0,
      });
    const alone: OpenAI.ChatCompletion[] = [];
    for (const i of [0, 1, 2]) alone.push(await ask(i));
    const together = await Promise.all([2, 0, 1, 2].map((i) => ask(i)));
    const text = (c: OpenAI.ChatCompletion) => c.choices[0]!.message.content;
    expect(new Set(alone.map(text)).size).toBe(3);
    expect(together.map(text)).toEqual([2, 0, 1, 2].map((i) => text(alone[i]!)));
    for (const answer of together) expect(answer.usage?.completion_tokens).toBe(20);
  });

  it("refuses a prompt over the context window with 400 context_length_exceeded stating both numbers, and records it", async () => {
    const long = [{ role: "user" as const, content: "Once upon a time there was a little dog. ".repeat(60) }];
    const promptTokens = modelTokens(renderedPrompt(long));
    expect(promptTokens).toBeGreaterThan(WINDOW);
    const answer = await chat(
      proxy,
      { model: "tiny", messages: long, max_tokens: 16 },
      { "x-request-id": "local-too-long" },
    );
    expect(answer.status).toBe(400);
    const error = openAIError(answer);
    expect(error.code).toBe("context_length_exceeded");
    expect(error.message).toContain(`maximum context length is ${WINDOW} tokens`);
    expect(error.message).toContain(`${promptTokens} in the messages, 16 in the completion`);
    const row = await recordedExchange(proxy, "local-too-long");
    expect(row).toMatchObject({ model: "tiny", provider: "local", http_status: 400, status: "error" });
    expect(row.error).toContain("maximum context length");
  });

  it("refuses a prompt that fits only without its max_tokens", async () => {
    const promptTokens = modelTokens(renderedPrompt(messages));
    const answer = await chat(proxy, { model: "tiny", messages, max_tokens: WINDOW - promptTokens + 1 });
    expect(answer.status).toBe(400);
    expect(openAIError(answer).message).toContain(
      `(${promptTokens} in the messages, ${WINDOW - promptTokens + 1} in the completion)`,
    );
  });

  it("records a client that leaves mid-stream as cancelled, and the model serves the next request", async () => {
    const controller = new AbortController();
    // No max_tokens: the generation would run to the end of the 2,048-token window.
    const stream = await client.chat.completions.create(
      { model: "tiny-long", messages, stream: true },
      { headers: { "x-request-id": "local-leaves" }, signal: controller.signal },
    );
    let received = "";
    for await (const chunk of stream) {
      received += chunk.choices[0]?.delta.content ?? "";
      if (received.length > 0) {
        controller.abort();
        break;
      }
    }
    expect(received).not.toBe("");
    await expect
      .poll(async () => (await recordedExchanges(proxy)).find((row) => row.request_id === "local-leaves")?.status)
      .toBe("cancelled");
    const next = await client.chat.completions.create({ model: "tiny-long", messages, max_tokens: 8 });
    expect(next.choices[0]!.finish_reason).toBe("length");
    expect(next.usage?.completion_tokens).toBe(8);
  });

  it("stops a generation at total_timeout_ms with 504 upstream_timeout, and the model serves the next request", async () => {
    // Greedy, without max_tokens: about 1,960 tokens to the end of the window (the model writes no EOS for this prompt), far beyond 250 ms.
    const answer = await chat(proxy, { model: "tiny-deadline", messages }, { "x-request-id": "local-deadline" });
    expect(answer.status).toBe(504);
    expect(openAIError(answer).code).toBe("upstream_timeout");
    const row = await recordedExchange(proxy, "local-deadline");
    expect(row).toMatchObject({ provider: "local", http_status: 504, status: "error" });
    const next = await client.chat.completions.create({ model: "tiny-deadline", messages, max_tokens: 2 });
    expect(next.choices[0]!.finish_reason).toBe("length");
  });

  it("answers 500 model_load_failed naming the file when the GGUF is missing", async () => {
    const answer = await chat(proxy, { model: "tiny-missing", messages, max_tokens: 8 });
    expect(answer.status).toBe(500);
    const error = openAIError(answer);
    expect(error.code).toBe("model_load_failed");
    expect(error.message).toContain("no-such-model.gguf");
  });
});

describe("local provider without the proxy", () => {
  /** The real node-llama-cpp, with `LlamaCompletion` wrapped to capture the context the provider created. */
  function spyingImport(seen: LlamaContextSequence[]): NodeLlamaCppImport {
    return async () => {
      const real = await import("node-llama-cpp");
      class SpyCompletion extends real.LlamaCompletion {
        constructor(options: LlamaCompletionOptions) {
          super(options);
          seen.push(options.contextSequence);
        }
      }
      return { ...real, LlamaCompletion: SpyCompletion };
    };
  }

  function provider(deployment: Partial<Deployment>, importModule?: NodeLlamaCppImport) {
    return createLocalProvider(
      { ...deploymentDefaults("local"), ...deployment },
      { env: {}, logger: pino({ level: "silent" }), debug: false, baseDir: path.dirname(MODEL_PATH) },
      importModule ? { importModule } : {},
    );
  }

  const call = (maxTokens: number) => ({
    body: { model: "stories", messages, max_tokens: maxTokens },
    signal: new AbortController().signal,
    requestId: "direct",
  });

  it("resolves a relative model_path against the config's directory and frees the model on close", async () => {
    const seen: LlamaContextSequence[] = [];
    const local = provider(
      { model_path: path.basename(MODEL_PATH), threads: 1, context_window: 256 },
      spyingImport(seen),
    );
    const answer = await local.complete(call(6));
    expect(answer.completion?.choices[0]?.finish_reason).toBe("length");
    expect(answer.completion?.usage?.completion_tokens).toBe(6);
    expect(answer.usageEstimated).toBe(false);
    expect(seen).toHaveLength(1);
    await local.close?.();
    expect(seen[0]!.model.disposed).toBe(true);
  });

  it("creates the context with the deployment's threads, else one per CPU; the window defaults to the GGUF's training context", async () => {
    const seen: LlamaContextSequence[] = [];
    const configured = provider({ model_path: MODEL_PATH, threads: 1 }, spyingImport(seen));
    const defaulted = provider({ model_path: MODEL_PATH }, spyingImport(seen));
    await configured.complete(call(2));
    await defaulted.complete(call(2));
    expect(seen.map((sequence) => sequence.context.idealThreads)).toEqual([1, os.availableParallelism()]);
    expect(seen.map((sequence) => sequence.contextSize)).toEqual([
      reference.trainContextSize,
      reference.trainContextSize,
    ]);
    await configured.close?.();
    await defaulted.close?.();
  });
});
