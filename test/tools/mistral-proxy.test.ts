/**
 * The Mistral, Llama 3.1 and MemGPT conventions through the real proxy
 * against the llamacpp fake replaying raw text: the prompt the backend
 * receives holds the convention's tool block, the answer comes back as
 * `tool_calls` (whole and streamed), and `llm_relay_exchanges` records the
 * convention used (NULL for an exchange without tools).
 */
import OpenAI from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { recordedExchange } from "../helpers/exchanges.js";
import { startFakeLlamaCpp, type FakeLlamaCpp } from "../helpers/fake-llamacpp.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { rawDeployment } from "../helpers/raw-provider.js";
import { TWO_TOOLS } from "./helpers/tools.js";

let fake: FakeLlamaCpp;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeLlamaCpp();
  proxy = await startTestProxy({
    models: {
      mistral: rawDeployment("llamacpp", fake.url, { prompt_format: "mistral-instruct" }),
      llama: rawDeployment("llamacpp", fake.url, { prompt_format: "llama3" }),
      dolphin: rawDeployment("llamacpp", fake.url, { prompt_format: "dolphin" }),
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});
beforeEach(() => fake.set({}));

const MESSAGES: OpenAI.ChatCompletionMessageParam[] = [
  { role: "user", content: "What is the weather in Paris, and the time in Tokyo?" },
];
const TOOLS = TWO_TOOLS as OpenAI.ChatCompletionTool[];

/** The `tool_convention` of one exchange's row. */
function toolConventionOf(responseId: string): string | null {
  const [row] = rows<{ tool_convention: string | null }>(
    proxy.dbPath,
    "SELECT tool_convention FROM llm_relay_exchanges WHERE response_id = ?",
    responseId,
  );
  return row!.tool_convention;
}

interface Case {
  model: string;
  convention: string;
  /** A text the prompt sent to the backend holds. */
  marker: string;
  pieces: string[];
  content: string | null;
  calls: { name: string; arguments: string }[];
}

const CASES: Case[] = [
  {
    model: "mistral",
    convention: "mistral",
    marker: "[AVAILABLE_TOOLS] [",
    pieces: [
      "[TOOL",
      '_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}, ',
      '{"name": "get_time", "arguments": {"timezone": "Asia/Tokyo"}}]',
    ],
    content: null,
    calls: [
      { name: "get_weather", arguments: '{"city":"Paris"}' },
      { name: "get_time", arguments: '{"timezone":"Asia/Tokyo"}' },
    ],
  },
  {
    model: "llama",
    convention: "llama3-json",
    marker: "You have access to the following functions.",
    pieces: ['{"name": "get_weather", ', '"parameters": {"city": "Paris"}}'],
    content: null,
    calls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }],
  },
  {
    model: "dolphin",
    convention: "memgpt",
    marker: "Available functions:\nget_weather:",
    pieces: ['{"function": "get_time", "params": {"inner_thoughts": "Tokyo first.", ', '"timezone": "Asia/Tokyo"}}'],
    content: "Tokyo first.",
    calls: [{ name: "get_time", arguments: '{"timezone":"Asia/Tokyo"}' }],
  },
];

describe.each(CASES)(
  "$convention on $model through the proxy",
  ({ model, convention, marker, pieces, content, calls }) => {
    it("non-streamed: the tools in the prompt, the calls back, the convention recorded", async () => {
      fake.set({ pieces });
      const requestId = `${model}-whole`;
      const completion = await client.chat.completions.create(
        { model, messages: MESSAGES, tools: TOOLS },
        { headers: { "x-request-id": requestId } },
      );
      expect(fake.completions().at(-1)!.body!.prompt).toContain(marker);
      const choice = completion.choices[0]!;
      expect(choice.finish_reason).toBe("tool_calls");
      expect(choice.message.content).toBe(content);
      const got = choice.message.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
      expect(got.map((call) => ({ name: call.function.name, arguments: call.function.arguments }))).toEqual(calls);
      expect(toolConventionOf((await recordedExchange(proxy, requestId)).id)).toBe(convention);
    });

    it("streamed: the calls as tool_calls deltas, finish_reason tool_calls, the convention recorded", async () => {
      fake.set({ pieces });
      const requestId = `${model}-stream`;
      const stream = await client.chat.completions.create(
        { model, messages: MESSAGES, tools: TOOLS, stream: true },
        { headers: { "x-request-id": requestId } },
      );
      const chunks: ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      const deltas = chunks.map((chunk) => chunk.choices[0]?.delta ?? {});
      const text = deltas.map((delta) => delta.content ?? "").join("");
      expect(text).toBe(content ?? "");
      const got = deltas.flatMap((delta) => delta.tool_calls ?? []);
      expect(got.map((call) => ({ name: call.function!.name, arguments: call.function!.arguments }))).toEqual(calls);
      expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("tool_calls");
      expect(toolConventionOf((await recordedExchange(proxy, requestId)).id)).toBe(convention);
    });
  },
);

it("an exchange without tools records no convention", async () => {
  fake.set({ pieces: ["Hello."] });
  await client.chat.completions.create(
    { model: "mistral", messages: MESSAGES },
    { headers: { "x-request-id": "plain" } },
  );
  expect(toolConventionOf((await recordedExchange(proxy, "plain")).id)).toBeNull();
});
