/**
 * Constrained decoding on the GBNF-only backends, through the proxy with the
 * `openai` SDK: KoboldCpp (`grammar`), text-generation-webui's
 * `/v1/completions` and legacy `/api/v1/generate` (`grammar_string`). Each
 * fake must receive exactly the GBNF node-llama-cpp writes for the request's
 * JSON schema (a named call, `tool_choice: "required"`, `response_format`
 * `json_schema`), its bundled `json` grammar for `json_object`, the
 * grammar's stop sequence beside the format's, and no grammar otherwise (no
 * must-call, or a schema outside node-llama-cpp's subset); the replayed JSON
 * must come back as the call, whole and streamed. Then the GBNF a fake
 * received is loaded by real llama.cpp grammar parsing (node-llama-cpp's
 * `createGrammar`) and the tiny GGUF model generates under it.
 */
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { getLlama, LlamaCompletion, LlamaLogLevel, type GbnfJsonSchema, type Llama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { startFakeKoboldCpp, type FakeKoboldCpp } from "../helpers/fake-koboldcpp.js";
import { startFakeWebui, type FakeWebui } from "../helpers/fake-webui.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { rawDeployment } from "../helpers/raw-provider.js";
import { TWO_TOOLS } from "./helpers/tools.js";

const MODEL_PATH = fileURLToPath(new URL("../../../shared/models/stories260K.gguf", import.meta.url));
/** node-llama-cpp's grammars end with four newlines; it stops on them, and so must the server. */
const GRAMMAR_STOP = "\n\n\n\n";
/** `chatml`'s own stop sequences. */
const CHATML_STOPS = ["<|im_end|>", "<|im_start|>"];

/** One GBNF-only backend behind the proxy. */
interface Target {
  model: string;
  /** The body field of the grammar. */
  grammarKey: "grammar" | "grammar_string";
  /** The body field of the stop strings. */
  stopKey: "stop_sequence" | "stop" | "stopping_strings";
  /** The text the fake answers next. */
  answer(text: string): void;
  /** The body of the last generate request. */
  lastBody(): Record<string, unknown>;
}

let kobold: FakeKoboldCpp;
let webui: FakeWebui;
let legacy: FakeWebui;
let proxy: TestProxy;
let client: OpenAI;
let llama: Llama;
const targets: Target[] = [];

beforeAll(async () => {
  [kobold, webui, legacy, llama] = await Promise.all([
    startFakeKoboldCpp(),
    startFakeWebui(),
    startFakeWebui({ legacy: true }),
    getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error }),
  ]);
  proxy = await startTestProxy({
    models: {
      kobold: rawDeployment("koboldcpp", kobold.url, { prompt_format: "chatml" }),
      webui: rawDeployment("webui", webui.url, { prompt_format: "chatml" }),
      "webui-legacy": rawDeployment("webui", legacy.url, { prompt_format: "chatml", mode: "legacy" }),
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
  targets.push(
    {
      model: "kobold",
      grammarKey: "grammar",
      stopKey: "stop_sequence",
      answer: (text) => kobold.set({ text, pieces: [text.slice(0, 5), text.slice(5)], finishReason: "stop" }),
      lastBody: () => kobold.generations().at(-1)!.body!,
    },
    {
      model: "webui",
      grammarKey: "grammar_string",
      stopKey: "stop",
      answer: (text) => webui.set({ pieces: [text.slice(0, 5), text.slice(5)] }),
      lastBody: () => webui.generations().at(-1)!.body!,
    },
    {
      model: "webui-legacy",
      grammarKey: "grammar_string",
      stopKey: "stopping_strings",
      answer: (text) => legacy.set({ pieces: [text] }),
      lastBody: () => legacy.generations().at(-1)!.body!,
    },
  );
});
afterAll(async () => {
  await proxy?.close();
  await Promise.all([kobold?.close(), webui?.close(), legacy?.close()]);
  await llama?.dispose();
});

const MESSAGES: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "What is the weather in Paris?" }];
const TOOLS = TWO_TOOLS as OpenAI.ChatCompletionTool[];
const NAMED = { type: "function" as const, function: { name: "get_weather" } };

/** The JSON schema of a call to a function of {@link TWO_TOOLS}, as `raw/constrained.ts` builds it. */
function callSchema(index: number): Record<string, unknown> {
  const fn = TWO_TOOLS[index]!.function;
  return {
    type: "object",
    properties: { name: { const: fn.name }, arguments: fn.parameters },
    required: ["name", "arguments"],
  };
}

/** The GBNF node-llama-cpp writes for `schema`. */
async function gbnfOf(schema: Record<string, unknown>): Promise<string> {
  return (await llama.createGrammarForJsonSchema<GbnfJsonSchema>(schema as GbnfJsonSchema)).grammar;
}

/** The functions of an answer's tool calls. */
function functionsOf(completion: OpenAI.ChatCompletion): { name: string; arguments: string }[] {
  const calls = (completion.choices[0]!.message.tool_calls ?? []) as OpenAI.ChatCompletionMessageFunctionToolCall[];
  return calls.map((call) => call.function);
}

const CALL_JSON = '{"name": "get_weather", "arguments": {"city": "Paris"}}';

describe.each(["kobold", "webui", "webui-legacy"])("GBNF constraint on %s", (model) => {
  const target = () => targets.find((t) => t.model === model)!;

  it("a named function: the grammar of its call is sent, and the replayed JSON comes back as the call", async () => {
    target().answer(CALL_JSON);
    const completion = await client.chat.completions.create({
      model,
      messages: MESSAGES,
      tools: TOOLS,
      tool_choice: NAMED,
    });
    const body = target().lastBody();
    expect(body[target().grammarKey]).toBe(await gbnfOf(callSchema(0)));
    expect(body[target().stopKey]).toEqual([...CHATML_STOPS, GRAMMAR_STOP]);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call_[0-9a-f]{24}$/) as string,
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      },
    ]);
  });

  it("tool_choice required, streamed: one grammar for either function, the call as one tool_calls delta", async () => {
    target().answer('{"name": "get_time", "arguments": {"timezone": "Europe/Paris"}}');
    const stream = await client.chat.completions.create({
      model,
      messages: MESSAGES,
      tools: TOOLS,
      tool_choice: "required",
      stream: true,
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(target().lastBody()[target().grammarKey]).toBe(await gbnfOf({ oneOf: [callSchema(0), callSchema(1)] }));
    expect(chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? [])).toEqual([
      {
        index: 0,
        id: expect.stringMatching(/^call_/) as string,
        type: "function",
        function: { name: "get_time", arguments: '{"timezone":"Europe/Paris"}' },
      },
    ]);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it("response_format json_schema and json_object: the schema's grammar, node-llama-cpp's json grammar; content stays", async () => {
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    target().answer('{"city": "Paris"}');
    const structured = await client.chat.completions.create({
      model,
      messages: MESSAGES,
      response_format: { type: "json_schema", json_schema: { name: "place", schema } },
    });
    expect(target().lastBody()[target().grammarKey]).toBe(await gbnfOf(schema));
    expect(structured.choices[0]!.message.content).toBe('{"city": "Paris"}');
    expect(structured.choices[0]!.finish_reason).toBe("stop");

    const anyObject = await client.chat.completions.create({
      model,
      messages: MESSAGES,
      response_format: { type: "json_object" },
    });
    expect(target().lastBody()[target().grammarKey]).toBe((await llama.getGrammarFor("json")).grammar);
    expect(anyObject.choices[0]!.message.content).toBe('{"city": "Paris"}');
  });

  it("no must-call, or a schema outside node-llama-cpp's subset: no grammar, the answer read with the convention", async () => {
    target().answer('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>');
    const auto = await client.chat.completions.create({ model, messages: MESSAGES, tools: TOOLS });
    expect(target().lastBody()).not.toHaveProperty(target().grammarKey);
    expect(target().lastBody()[target().stopKey]).toEqual(CHATML_STOPS);
    expect(functionsOf(auto)[0]).toEqual({
      name: "get_weather",
      arguments: '{"city":"Oslo"}',
    });

    const nullable: OpenAI.ChatCompletionTool = {
      type: "function",
      function: {
        name: "get_weather",
        parameters: { type: "object", properties: { city: { anyOf: [{ type: "string" }, { type: "null" }] } } },
      },
    };
    const unsupported = await client.chat.completions.create({
      model,
      messages: MESSAGES,
      tools: [nullable],
      tool_choice: "required",
    });
    expect(target().lastBody()).not.toHaveProperty(target().grammarKey);
    expect(unsupported.choices[0]!.finish_reason).toBe("tool_calls");
    expect(functionsOf(unsupported)[0]?.arguments).toBe('{"city":"Oslo"}');
  });
});

describe("the GBNF sent is accepted by llama.cpp", () => {
  it("each grammar a server received is parsed by llama.cpp and makes the tiny model write what it allows", async () => {
    const weather = z.object({ name: z.literal("get_weather"), arguments: z.object({ city: z.string() }) });
    const time = z.object({ name: z.literal("get_time"), arguments: z.object({ timezone: z.string() }) });
    /** What the model's text must be: JSON the schema accepts, or (any JSON object) the start of an object. */
    const received: {
      body: Record<string, unknown>;
      grammarKey: string;
      stopKey: string;
      valid: z.ZodType | "object start";
    }[] = [];

    targets[0]!.answer(CALL_JSON);
    await client.chat.completions.create({ model: "kobold", messages: MESSAGES, tools: TOOLS, tool_choice: NAMED });
    received.push({ body: targets[0]!.lastBody(), grammarKey: "grammar", stopKey: "stop_sequence", valid: weather });
    targets[1]!.answer(CALL_JSON);
    await client.chat.completions.create({ model: "webui", messages: MESSAGES, tools: TOOLS, tool_choice: "required" });
    received.push({
      body: targets[1]!.lastBody(),
      grammarKey: "grammar_string",
      stopKey: "stop",
      valid: z.union([weather, time]),
    });
    targets[2]!.answer('{"a": 1}');
    await client.chat.completions.create({
      model: "webui-legacy",
      messages: MESSAGES,
      response_format: { type: "json_object" },
    });
    received.push({
      body: targets[2]!.lastBody(),
      grammarKey: "grammar_string",
      stopKey: "stopping_strings",
      // The json grammar allows any object: the tiny model writes one past max tokens, so only its start is checked.
      valid: "object start",
    });

    const model = await llama.loadModel({ modelPath: MODEL_PATH });
    const context = await model.createContext({ contextSize: 512, threads: 1, sequences: received.length });
    try {
      for (const { body, grammarKey, stopKey, valid } of received) {
        const grammar = await llama.createGrammar({ grammar: body[grammarKey] as string });
        const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
        const text = await completion.generateCompletion("Once upon a time in Paris", {
          grammar,
          maxTokens: 200,
          customStopTriggers: body[stopKey] as string[],
        });
        if (valid === "object start") expect(text).toMatch(/^\{\s*("|\})/);
        else expect(valid.safeParse(JSON.parse(text)).success, text).toBe(true);
      }
    } finally {
      await context.dispose();
      await model.dispose();
    }
  });
});
