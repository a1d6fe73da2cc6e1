/**
 * Tool calling through the real proxy with the `openai` SDK on the raw
 * backends not covered elsewhere: text-generation-webui (`/v1/completions`
 * and the legacy `/api/v1/generate`), LM Studio legacy (`/v1/completions`)
 * and Ollama with a prompt format (`/api/generate`), each a `chatml`
 * deployment (Hermes convention) of its loopback fake answering raw text.
 * For each: the tools reach the prompt the backend receives, the call comes
 * back whole and streamed, and `runTools` completes a call → result → final
 * text round trip (the tool function switches the fake's answer), with
 * `tool_calls`, `tool_results` and `tool_convention` recorded.
 */
import OpenAI from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { recordedExchanges } from "../helpers/exchanges.js";
import { startFakeOllama, type FakeOllama } from "../helpers/fake-ollama.js";
import { startFakeLocalServer, type FakeLocalServer } from "../helpers/fake-openai-local.js";
import { startFakeWebui, type FakeWebui } from "../helpers/fake-webui.js";
import { localDeployment } from "../helpers/local-backend-tests.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { rawDeployment } from "../helpers/raw-provider.js";
import { TWO_TOOLS, TWO_TOOLS_HERMES } from "./helpers/tools.js";

/** One backend's fake, as the tests drive it. */
interface Backend {
  model: string;
  /** The raw text the fake answers next (in two pieces where it streams). */
  answer(text: string): void;
  /** The prompt of the last generation request. */
  lastPrompt(): string;
}

let webui: FakeWebui;
let legacy: FakeWebui;
let lmstudio: FakeLocalServer;
let ollama: FakeOllama;
let proxy: TestProxy;
let client: OpenAI;
const backends = new Map<string, Backend>();

const LMS_MODEL = "qwen2.5-7b-instruct";

beforeAll(async () => {
  [webui, legacy, lmstudio, ollama] = await Promise.all([
    startFakeWebui(),
    startFakeWebui({ legacy: true }),
    startFakeLocalServer("lmstudio", LMS_MODEL, 32_768),
    startFakeOllama({ "qwen2.5": {} }),
  ]);
  proxy = await startTestProxy({
    models: {
      webui: rawDeployment("webui", webui.url, { prompt_format: "chatml" }),
      "webui-legacy": rawDeployment("webui", legacy.url, { prompt_format: "chatml", mode: "legacy" }),
      "lmstudio-legacy": localDeployment("lmstudio", lmstudio.baseUrl, {
        model: LMS_MODEL,
        mode: "legacy",
        prompt_format: "chatml",
      }),
      "ollama-generate": localDeployment("ollama", ollama.baseUrl, { model: "qwen2.5", prompt_format: "chatml" }),
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
  const halves = (text: string) => [text.slice(0, 7), text.slice(7)];
  const bodyPrompt = (body: unknown) => (body as { prompt: string }).prompt;
  for (const backend of [
    {
      model: "webui",
      answer: (text: string) => webui.set({ pieces: halves(text) }),
      lastPrompt: () => bodyPrompt(webui.generations().at(-1)!.body),
    },
    {
      model: "webui-legacy",
      answer: (text: string) => legacy.set({ pieces: halves(text) }),
      lastPrompt: () => bodyPrompt(legacy.generations().at(-1)!.body),
    },
    {
      model: "lmstudio-legacy",
      answer: (text: string) => lmstudio.behave({ kind: "ok", text, chunks: 2, finishReason: "stop" }),
      lastPrompt: () => bodyPrompt(lmstudio.requestsTo("/v1/completions").at(-1)!.body),
    },
    {
      model: "ollama-generate",
      answer: (text: string) => ollama.behave({ kind: "ok", text, chunks: 2, doneReason: "stop" }),
      lastPrompt: () => bodyPrompt(ollama.requestsTo("/api/generate").at(-1)!.body),
    },
  ])
    backends.set(backend.model, backend);
});
afterAll(async () => {
  await proxy?.close();
  await Promise.all([webui?.close(), legacy?.close(), lmstudio?.close(), ollama?.close()]);
});

const CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
const FINAL = "It is 18 C and cloudy in Paris.";
const TOOLS = TWO_TOOLS as OpenAI.ChatCompletionTool[];
const MESSAGES: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris?" }];

describe.each(["webui", "webui-legacy", "lmstudio-legacy", "ollama-generate"])("tools on %s (chatml)", (model) => {
  const backend = () => backends.get(model)!;

  it("the tools reach the prompt and the call comes back, whole and streamed", async () => {
    backend().answer(CALL);
    const completion = await client.chat.completions.create({ model, messages: MESSAGES, tools: TOOLS });
    expect(backend().lastPrompt()).toBe(
      `<|im_start|>system\n${TWO_TOOLS_HERMES}<|im_end|>\n<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n`,
    );
    expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
    expect(completion.choices[0]!.message.content).toBeNull();
    expect(completion.choices[0]!.message.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call_[0-9a-f]{24}$/) as string,
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      },
    ]);

    const stream = await client.chat.completions.create({ model, messages: MESSAGES, tools: TOOLS, stream: true });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? [])).toEqual([
      {
        index: 0,
        id: expect.stringMatching(/^call_/) as string,
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      },
    ]);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe("");
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it.each([false, true])("runTools (stream: %s) completes a round trip, recorded", async (stream) => {
    const before = (await recordedExchanges(proxy)).length;
    backend().answer(CALL);
    const tools = [
      {
        type: "function" as const,
        function: {
          name: "get_weather",
          description: "Current weather in a city",
          parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
          parse: (input: string) => JSON.parse(input) as { city: string },
          function: (args: { city: string }) => {
            // The model's next answer is the final text.
            backend().answer(FINAL);
            return `18 C, cloudy in ${args.city}`;
          },
        },
      },
    ];
    const final = stream
      ? await client.chat.completions.runTools({ model, messages: MESSAGES, tools, stream: true }).finalContent()
      : await client.chat.completions.runTools({ model, messages: MESSAGES, tools }).finalContent();
    expect(final).toBe(FINAL);
    expect(backend().lastPrompt()).toContain(
      '<|im_start|>assistant\n<tool_call>\n{"name":"get_weather","arguments":{"city":"Paris"}}\n</tool_call><|im_end|>\n' +
        "<|im_start|>user\n<tool_response>\n18 C, cloudy in Paris\n</tool_response><|im_end|>\n<|im_start|>assistant\n",
    );

    const recorded = (await recordedExchanges(proxy)).slice(before);
    expect(recorded).toHaveLength(2);
    const calls = rows<{ name: string; arguments: string; tool_call_id: string }>(
      proxy.dbPath,
      "select name, arguments, tool_call_id from tool_calls where response_id = ?",
      recorded[0]!.id,
    );
    expect(calls).toEqual([
      { name: "get_weather", arguments: '{"city": "Paris"}', tool_call_id: expect.stringMatching(/^call_/) as string },
    ]);
    expect(
      rows(proxy.dbPath, "select name, output, tool_call_id from tool_results where response_id = ?", recorded[1]!.id),
    ).toEqual([{ name: "get_weather", output: "18 C, cloudy in Paris", tool_call_id: calls[0]!.tool_call_id }]);
    expect(
      rows(
        proxy.dbPath,
        `select tool_convention from llm_relay_exchanges where response_id in (?, ?) order by response_id`,
        recorded[0]!.id,
        recorded[1]!.id,
      ),
    ).toEqual([{ tool_convention: "hermes" }, { tool_convention: "hermes" }]);
  });
});
