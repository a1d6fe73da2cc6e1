/**
 * Constrained decoding through the proxy with the `openai` SDK against the
 * loopback fakes: what llama-server's `/completion` receives as
 * `json_schema` and Ollama's `/api/generate` as `format` for a named call,
 * `tool_choice: "required"`, `response_format` `json_schema` and
 * `json_object`; that nothing is constrained otherwise; and how the
 * constrained JSON comes back (a `tool_calls` answer, whole and streamed;
 * `content` for `response_format`; an answer that is not the constrained
 * JSON is read with the convention as usual).
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeLlamaCpp, type FakeLlamaCpp } from "../helpers/fake-llamacpp.js";
import { startFakeOllama, type FakeOllama } from "../helpers/fake-ollama.js";
import { localDeployment } from "../helpers/local-backend-tests.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { rawDeployment } from "../helpers/raw-provider.js";
import { rows } from "../helpers/db.js";
import { TWO_TOOLS } from "./helpers/tools.js";

let llama: FakeLlamaCpp;
let ollama: FakeOllama;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  llama = await startFakeLlamaCpp();
  ollama = await startFakeOllama({ "qwen2.5": {} });
  proxy = await startTestProxy({
    models: {
      qwen: rawDeployment("llamacpp", llama.url, { prompt_format: "chatml", model: "qwen2.5-7b" }),
      "qwen-ollama": localDeployment("ollama", ollama.baseUrl, { model: "qwen2.5", prompt_format: "chatml" }),
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await llama.close();
  await ollama.close();
});
beforeEach(() => {
  llama.set({});
  ollama.behave({ kind: "ok" });
});

const MESSAGES: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "What is the weather in Paris?" }];
const TOOLS = TWO_TOOLS as OpenAI.ChatCompletionTool[];
const WEATHER = TWO_TOOLS[0]!.function;
const TIME = TWO_TOOLS[1]!.function;
const NAMED = { type: "function" as const, function: { name: "get_weather" } };

/** The schema of a call to `fn`, as the backend must receive it: `{"name": <const>, "arguments": <its parameters>}`. */
function callSchema(fn: { name: string; parameters?: Record<string, unknown> }) {
  return {
    type: "object",
    properties: { name: { const: fn.name }, arguments: fn.parameters },
    required: ["name", "arguments"],
  };
}

/** The constrained answer of a model calling get_weather, cut into token-like pieces. */
const CALL_PIECES = ['{"name": "get_', 'weather", "argu', 'ments": {"city": "Par', 'is"}}'];
const PLACE_SCHEMA = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };

function lastLlamaBody(): Record<string, unknown> {
  return llama.completions().at(-1)!.body!;
}

describe("llamacpp: json_schema on /completion", () => {
  it("a named function: the call's schema is sent, and the JSON comes back as a tool_calls answer", async () => {
    llama.set({ pieces: CALL_PIECES });
    const completion = await client.chat.completions.create({
      model: "qwen",
      messages: MESSAGES,
      tools: TOOLS,
      tool_choice: NAMED,
    });
    expect(lastLlamaBody().json_schema).toEqual(callSchema(WEATHER));
    expect(lastLlamaBody()).not.toHaveProperty("grammar");
    // The prompt still teaches the convention (the tool in the system turn).
    expect(lastLlamaBody().prompt).toContain("<tools>");
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call_[0-9a-f]{24}$/) as unknown,
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      },
    ]);
    // Recorded with the convention the prompt taught (chatml's), like an unconstrained call.
    await proxy.server.ctx.recorder.flush();
    const recorded = rows<{ tool_convention: string | null }>(
      proxy.dbPath,
      "SELECT tool_convention FROM llm_relay_exchanges ORDER BY response_id DESC LIMIT 1",
    );
    expect(recorded).toEqual([{ tool_convention: "hermes" }]);
  });

  it('tool_choice "required", streamed: one branch per function; the call arrives whole, then finish_reason tool_calls', async () => {
    llama.set({ pieces: CALL_PIECES });
    const stream = await client.chat.completions.create({
      model: "qwen",
      messages: MESSAGES,
      tools: TOOLS,
      tool_choice: "required",
      stream: true,
    });
    const deltas: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    const finishes: (string | null)[] = [];
    let content = "";
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      content += choice.delta.content ?? "";
      deltas.push(...(choice.delta.tool_calls ?? []));
      if (choice.finish_reason) finishes.push(choice.finish_reason);
    }
    expect(lastLlamaBody().json_schema).toEqual({ oneOf: [callSchema(WEATHER), callSchema(TIME)] });
    expect(lastLlamaBody().stream).toBe(true);
    expect(content).toBe("");
    expect(finishes).toEqual(["tool_calls"]);
    expect(deltas).toHaveLength(1);
    expect(deltas[0]).toMatchObject({
      index: 0,
      type: "function",
      function: { name: "get_weather", arguments: '{"city":"Paris"}' },
    });
  });

  it("response_format json_schema: its schema is sent and the JSON stays content", async () => {
    llama.set({ pieces: ['{"city": ', '"Paris"}'] });
    const completion = await client.chat.completions.create({
      model: "qwen",
      messages: MESSAGES,
      response_format: { type: "json_schema", json_schema: { name: "place", schema: PLACE_SCHEMA } },
    });
    expect(lastLlamaBody().json_schema).toEqual(PLACE_SCHEMA);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("stop");
    expect(choice.message.content).toBe('{"city": "Paris"}');
    expect(choice.message.tool_calls ?? []).toEqual([]);
  });

  it("response_format json_object: any JSON object", async () => {
    llama.set({ pieces: ["{}"] });
    await client.chat.completions.create({
      model: "qwen",
      messages: MESSAGES,
      response_format: { type: "json_object" },
    });
    expect(lastLlamaBody().json_schema).toEqual({ type: "object" });
  });

  it('tool_choice "auto", "none" and plain requests are not constrained', async () => {
    llama.set({ pieces: ["Sunny."] });
    for (const extra of [{ tools: TOOLS }, { tools: TOOLS, tool_choice: "none" as const }, {}]) {
      await client.chat.completions.create({ model: "qwen", messages: MESSAGES, ...extra });
      expect(lastLlamaBody()).not.toHaveProperty("json_schema");
    }
  });

  it("an answer that is not the constrained JSON (a server that ignored json_schema) is read with the convention", async () => {
    llama.set({ pieces: ['<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'] });
    const completion = await client.chat.completions.create({
      model: "qwen",
      messages: MESSAGES,
      tools: TOOLS,
      tool_choice: NAMED,
    });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.tool_calls?.map((call) => call.type === "function" && call.function)).toEqual([
      { name: "get_weather", arguments: '{"city":"Paris"}' },
    ]);
  });

  it("an answer cut short at max_tokens is text with the backend's finish reason, never an invented call", async () => {
    llama.set({ pieces: CALL_PIECES });
    const completion = await client.chat.completions.create({
      model: "qwen",
      messages: MESSAGES,
      tools: TOOLS,
      tool_choice: NAMED,
      max_tokens: 2,
    });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("length");
    expect(choice.message.tool_calls ?? []).toEqual([]);
    expect(choice.message.content).toBe(CALL_PIECES.slice(0, 2).join(""));
  });
});

describe("ollama /api/generate: format", () => {
  function lastGenerate(): Record<string, unknown> {
    return ollama.requestsTo("/api/generate").at(-1)!.body;
  }

  it("a named function: the call's schema as format, the JSON back as a tool call", async () => {
    ollama.behave({ kind: "ok", text: '{"name": "get_weather", "arguments": {"city": "Paris"}}' });
    const completion = await client.chat.completions.create({
      model: "qwen-ollama",
      messages: MESSAGES,
      tools: TOOLS,
      tool_choice: NAMED,
    });
    expect(lastGenerate().format).toEqual(callSchema(WEATHER));
    expect(lastGenerate().raw).toBe(true);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.tool_calls?.map((call) => call.type === "function" && call.function)).toEqual([
      { name: "get_weather", arguments: '{"city":"Paris"}' },
    ]);
  });

  it('streamed, response_format json_schema: its schema as format; json_object: "json"', async () => {
    ollama.behave({ kind: "ok", text: '{"city": "Paris"}', chunks: 3 });
    const stream = await client.chat.completions.create({
      model: "qwen-ollama",
      messages: MESSAGES,
      response_format: { type: "json_schema", json_schema: { name: "place", schema: PLACE_SCHEMA } },
      stream: true,
    });
    let content = "";
    for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? "";
    expect(lastGenerate().format).toEqual(PLACE_SCHEMA);
    expect(content).toBe('{"city": "Paris"}');

    await client.chat.completions.create({
      model: "qwen-ollama",
      messages: MESSAGES,
      response_format: { type: "json_object" },
    });
    expect(lastGenerate().format).toBe("json");
  });

  it("a plain request has no format", async () => {
    await client.chat.completions.create({ model: "qwen-ollama", messages: MESSAGES });
    expect(lastGenerate()).not.toHaveProperty("format");
  });
});
