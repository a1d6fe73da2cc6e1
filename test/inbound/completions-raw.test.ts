/**
 * Legacy completions (`POST /v1/completions`, issue 20 item 3) to raw-completion backends, with the `openai` SDK
 * as the client: the prompt reaches llama.cpp's `/completion` (and KoboldCpp's generate, Ollama's raw
 * `/api/generate`) byte for byte, with no prompt format, no format stops and no BOS text; `suffix` goes to llama.cpp's `/infill` as
 * `input_prefix`/`input_suffix`; the usage is the server's counts; the record keeps the prompt as the user text.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CAPTURED_PIECES, startFakeLlamaCpp, type FakeLlamaCpp } from "../helpers/fake-llamacpp.js";
import { startFakeKoboldCpp, type FakeKoboldCpp } from "../helpers/fake-koboldcpp.js";
import { startFakeOllama, type FakeOllama } from "../helpers/fake-ollama.js";
import { localDeployment } from "../helpers/local-backend-tests.js";
import { fakeTokenize } from "../helpers/fake-tokenizer.js";
import { rows } from "../helpers/db.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { rawDeployment, recordRow } from "../helpers/raw-provider.js";

let llama: FakeLlamaCpp;
let kobold: FakeKoboldCpp;
let ollama: FakeOllama;
let proxy: TestProxy;
let client: OpenAI;

/** A prompt a prompt format would change: ChatML markers, newlines, trailing spaces, non-ASCII. */
const PROMPT = "<|im_start|>user\nÉcris une fonction\n<|im_end|>\n<|im_start|>assistant\n  def f(x):  ";

beforeAll(async () => {
  llama = await startFakeLlamaCpp();
  kobold = await startFakeKoboldCpp();
  ollama = await startFakeOllama({ "qwen2.5": {} });
  proxy = await startTestProxy({
    models: {
      llama: rawDeployment("llamacpp", llama.url, { prompt_format: "llama3", model: "stories260K" }),
      kobold: rawDeployment("koboldcpp", kobold.url, { prompt_format: "chatml" }),
      "ollama-raw": localDeployment("ollama", ollama.baseUrl, { model: "qwen2.5", prompt_format: "chatml" }),
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await llama.close();
  await kobold.close();
  await ollama.close();
});
beforeEach(() => llama.set({}));

describe("to llama.cpp", () => {
  it("sends the prompt to /completion byte for byte with only the client's stops; usage from the server; recorded", async () => {
    const completion = await client.completions.create(
      { model: "llama", prompt: PROMPT, stop: ["\n\n"], temperature: 0.1, seed: 3 },
      { headers: { "x-request-id": "cmpl-llama-1" } },
    );
    const text = CAPTURED_PIECES.join("");
    expect(completion.choices).toEqual([{ text, index: 0, logprobs: null, finish_reason: "stop" }]);
    const sent = llama.completions().at(-1)!.body!;
    expect(sent.prompt).toBe(PROMPT);
    expect(sent).toMatchObject({ stop: ["\n\n"], n_predict: 16, temperature: 0.1, seed: 3, stream: false });
    const promptTokens = fakeTokenize(PROMPT, true).length;
    expect(completion.usage).toEqual({
      prompt_tokens: promptTokens,
      completion_tokens: CAPTURED_PIECES.length,
      total_tokens: promptTokens + CAPTURED_PIECES.length,
    });

    const row = await recordRow(proxy, "cmpl-llama-1");
    expect(row).toMatchObject({
      prompt: PROMPT,
      response: text,
      provider: "llamacpp",
      input_tokens: promptTokens,
      output_tokens: CAPTURED_PIECES.length,
      usage_estimated: 0,
    });
    const [exchange] = rows<{ protocol: string }>(
      proxy.dbPath,
      "SELECT protocol FROM llm_relay_exchanges WHERE request_id = ?",
      "cmpl-llama-1",
    );
    expect(exchange!.protocol).toBe("completions");
  });

  it("streams one text_completion chunk per /completion event; max_tokens cuts it with finish_reason length", async () => {
    const stream = await client.completions.create({
      model: "llama",
      prompt: "Once upon a time",
      max_tokens: 4,
      echo: true,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Completion[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const texts = chunks.flatMap((c) => c.choices.map((choice) => choice.text)).filter((t) => t !== "");
    expect(texts).toEqual(["Once upon a time", ...CAPTURED_PIECES.slice(0, 4)]);
    expect(chunks.flatMap((c) => c.choices.map((choice) => choice.finish_reason)).filter(Boolean)).toEqual(["length"]);
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: 4 });
    expect(llama.completions().at(-1)!.body).toMatchObject({ prompt: "Once upon a time", n_predict: 4, stream: true });
  });

  it("sends a suffix to /infill as input_prefix and input_suffix (fill-in-the-middle), streamed and not", async () => {
    const prefix = "def add(a, b):\n    ";
    const suffix = "\n\nprint(add(1, 2))\n";
    const completion = await client.completions.create(
      { model: "llama", prompt: prefix, suffix, max_tokens: 3 },
      { headers: { "x-request-id": "cmpl-infill" } },
    );
    expect(completion.choices[0]).toMatchObject({
      text: CAPTURED_PIECES.slice(0, 3).join(""),
      finish_reason: "length",
    });
    const infill = llama.requests.filter((r) => r.path === "/infill");
    expect(infill).toHaveLength(1);
    expect(infill[0]!.body).toMatchObject({ input_prefix: prefix, input_suffix: suffix, prompt: "", n_predict: 3 });
    const row = await recordRow(proxy, "cmpl-infill");
    expect(row.prompt).toBe(prefix);

    const stream = await client.completions.create({
      model: "llama",
      prompt: prefix,
      suffix,
      stream: true,
      max_tokens: 2,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe(CAPTURED_PIECES.slice(0, 2).join(""));
    expect(llama.requests.filter((r) => r.path === "/infill").at(-1)!.body).toMatchObject({ stream: true });
  });

  it("a backend error keeps its status in OpenAI's shape", async () => {
    llama.set({
      completionError: { status: 500, body: '{"error":{"code":500,"message":"boom","type":"server_error"}}' },
    });
    const error = await client.completions.create({ model: "llama", prompt: "x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toContain("boom");
  });
});

describe("to KoboldCpp", () => {
  it("sends the prompt as it is, not in the deployment's ChatML", async () => {
    const completion = await client.completions.create({ model: "kobold", prompt: "Once upon a time" });
    expect(completion.object).toBe("text_completion");
    const sent = kobold.generations().at(-1)!.body!;
    expect(sent.prompt).toBe("Once upon a time");
    expect(JSON.stringify(sent)).not.toContain("<|im_start|>");
  });
});

describe("to Ollama with a prompt format (raw mode)", () => {
  it("sends the prompt as it is to /api/generate with raw: true", async () => {
    const completion = await client.completions.create({ model: "ollama-raw", prompt: PROMPT, max_tokens: 8 });
    expect(completion.choices[0]!.text.length).toBeGreaterThan(0);
    expect(ollama.requestsTo("/api/generate").at(-1)!.body).toMatchObject({
      model: "qwen2.5",
      prompt: PROMPT,
      raw: true,
      options: { num_predict: 8 },
    });
  });
});
