/**
 * The Gemini API served by llm-relay (issue 20, item 2), with Google's
 * `@google/genai` client as the client over real HTTP on loopback:
 * `generateContent`, `generateContentStream`, `countTokens`, `models.list`
 * and `models.get`, each to `echo` and to an OpenAI-compatible fake
 * (translation both ways); a function call round trip (the upstream's
 * `tool_calls` seen as `functionCall` parts, the next turn's
 * `functionResponse` reaching the upstream as a `role: "tool"` message with
 * the call's id); the request's settings as the chat upstream receives
 * them; thoughts shown only when the request asks for them.
 */
import { FunctionCallingConfigMode, GoogleGenAI, ThinkingLevel, type Content } from "@google/genai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { send } from "../helpers/exchanges.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { startChatScriptUpstream, type ChatScriptUpstream } from "./helpers/chat-script-upstream.js";

let fake: FakeUpstream;
let script: ChatScriptUpstream;
let proxy: TestProxy;
let ai: GoogleGenAI;

beforeAll(async () => {
  fake = await startFakeUpstream();
  script = await startChatScriptUpstream();
  proxy = await startTestProxy({
    models: {
      "fake-model": fakeDeployment(fake.baseUrl),
      "tools/model": fakeDeployment(script.baseUrl),
      "llama3:8b": fakeDeployment(fake.baseUrl),
    },
  });
  ai = new GoogleGenAI({ apiKey: "unused", httpOptions: { baseUrl: proxy.url } });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
  await script.close();
});

/** The last request body the OpenAI-compatible fake received. */
function lastFakeBody(): Record<string, unknown> {
  const last = fake.requests.at(-1);
  expect(last, "a request reached the fake upstream").toBeDefined();
  return last!.body;
}

describe("to echo", () => {
  it("generateContent answers the last user text, with usage, modelVersion and responseId", async () => {
    const response = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "hello there",
      config: { systemInstruction: "Be brief." },
    });
    expect(response.text).toBe("hello there");
    expect(response.candidates?.[0]?.finishReason).toBe("STOP");
    expect(response.candidates?.[0]?.content?.role).toBe("model");
    expect(response.modelVersion).toBe("gemini-2.5-flash");
    expect(response.responseId).toMatch(/^[0-9a-z]{26}$/);
    const usage = response.usageMetadata!;
    expect(usage.candidatesTokenCount).toBe(2);
    expect(usage.promptTokenCount).toBeGreaterThan(0);
    expect(usage.totalTokenCount).toBe(usage.promptTokenCount! + 2);
  });

  it("generateContentStream gives the text in pieces, then finishReason and usage", async () => {
    const stream = await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "one two three" });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.text ?? "").join("")).toBe("one two three");
    expect(chunks.length).toBeGreaterThan(2);
    const last = chunks.at(-1)!;
    expect(last.candidates?.[0]?.finishReason).toBe("STOP");
    expect(last.usageMetadata?.candidatesTokenCount).toBe(3);
    expect(chunks.slice(0, -1).every((chunk) => chunk.candidates?.[0]?.finishReason === undefined)).toBe(true);
    expect(new Set(chunks.map((chunk) => chunk.responseId)).size).toBe(1);
  });

  it("countTokens counts the prompt with the proxy's tokenizer", async () => {
    const short = await ai.models.countTokens({ model: "gemini-2.5-flash", contents: "hi" });
    const long = await ai.models.countTokens({
      model: "gemini-2.5-flash",
      contents: "hi, and a much longer prompt than the first one, to be counted",
    });
    expect(short.totalTokens).toBeGreaterThan(0);
    expect(long.totalTokens).toBeGreaterThan(short.totalTokens! + 10);
  });

  it("countTokens of a whole generateContentRequest counts its system instruction and functions too", async () => {
    const contents = [{ role: "user", parts: [{ text: "What is the weather?" }] }];
    const count = async (body: unknown) => {
      const answer = await send(`${proxy.url}/v1beta/models/gemini-2.5-flash:countTokens`, { body });
      expect(answer.status).toBe(200);
      return (answer.json as { totalTokens: number }).totalTokens;
    };
    const bare = await count({ contents });
    const whole = await count({
      generateContentRequest: {
        model: "models/gemini-2.5-flash",
        contents,
        systemInstruction: { parts: [{ text: "You are a weather assistant for sailors and pilots." }] },
        tools: [{ functionDeclarations: [{ name: "get_weather", description: "The weather of a city" }] }],
      },
    });
    expect(bare).toBeGreaterThan(0);
    expect(whole).toBeGreaterThan(bare + 15);
  });

  it("models.list lists the routable models as models/<id>; models.get reads one", async () => {
    const pager = await ai.models.list();
    const names: string[] = [];
    for await (const model of pager) names.push(model.name ?? "");
    expect(names).toEqual(expect.arrayContaining(["models/echo", "models/fake-model", "models/tools/model"]));
    const model = await ai.models.get({ model: "fake-model" });
    expect(model).toMatchObject({
      name: "models/fake-model",
      supportedActions: ["generateContent", "streamGenerateContent", "countTokens"],
    });
    // A name with a `/`, as the list gives it back.
    expect((await ai.models.get({ model: "models/tools/model" })).name).toBe("models/tools/model");
  });
});

describe("to an OpenAI-compatible upstream", () => {
  it("generateContent: the upstream's answer and usage come back in Gemini's shape", async () => {
    fake.behave({ kind: "ok", text: "Bonjour!" });
    const response = await ai.models.generateContent({ model: "fake-model", contents: "Say hello in French" });
    expect(response.text).toBe("Bonjour!");
    expect(response.usageMetadata).toEqual({ promptTokenCount: 46, candidatesTokenCount: 12, totalTokenCount: 58 });
    expect(lastFakeBody().messages).toEqual([{ role: "user", content: "Say hello in French" }]);
  });

  it("generateContentStream: the upstream's chunks as events, its usage on the last", async () => {
    fake.behave({ kind: "ok", text: "The quick brown fox jumps", chunkCount: 4 });
    const stream = await ai.models.generateContentStream({ model: "fake-model", contents: "Tell me about foxes" });
    const texts: string[] = [];
    let last;
    for await (const chunk of stream) {
      texts.push(chunk.text ?? "");
      last = chunk;
    }
    expect(texts.join("")).toBe("The quick brown fox jumps");
    expect(texts.filter((text) => text !== "").length).toBe(4);
    expect(last?.candidates?.[0]?.finishReason).toBe("STOP");
    expect(last?.usageMetadata).toEqual({ promptTokenCount: 46, candidatesTokenCount: 12, totalTokenCount: 58 });
    expect(lastFakeBody()).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("serves a model whose name holds ':' (Ollama's style) on every method", async () => {
    fake.behave({ kind: "ok", text: "Hi from a tag" });
    expect((await ai.models.generateContent({ model: "llama3:8b", contents: "hi" })).text).toBe("Hi from a tag");
    expect(lastFakeBody().model).toBe("llama3:8b");
    expect((await ai.models.countTokens({ model: "llama3:8b", contents: "hi" })).totalTokens).toBeGreaterThan(0);
    expect((await ai.models.get({ model: "llama3:8b" })).name).toBe("models/llama3:8b");
    fake.behave({ kind: "ok" });
  });

  it("countTokens and models.get answer for the configured model", async () => {
    expect((await ai.models.countTokens({ model: "fake-model", contents: "a few words" })).totalTokens).toBeGreaterThan(
      0,
    );
    expect((await ai.models.get({ model: "fake-model" })).name).toBe("models/fake-model");
  });

  it("sends the request's settings the way a chat upstream takes them", async () => {
    fake.behave({ kind: "ok", text: '{"ok":true}' });
    await ai.models.generateContent({
      model: "fake-model",
      contents: [
        {
          role: "user",
          parts: [{ text: "What is in this picture?" }, { inlineData: { mimeType: "image/png", data: "iVBORw0K" } }],
        },
      ],
      config: {
        systemInstruction: { parts: [{ text: "You see well." }, { text: "Answer in JSON." }] },
        temperature: 0.3,
        topP: 0.9,
        topK: 40,
        maxOutputTokens: 200,
        stopSequences: ["END"],
        seed: 7,
        presencePenalty: 0.5,
        frequencyPenalty: 0.25,
        responseMimeType: "application/json",
        responseSchema: {
          type: "OBJECT" as never,
          properties: { ok: { type: "BOOLEAN" as never, nullable: true } },
          required: ["ok"],
          propertyOrdering: ["ok"],
        },
        thinkingConfig: { thinkingLevel: ThinkingLevel.LOW },
      },
    });
    expect(lastFakeBody()).toMatchObject({
      model: "fake-model",
      messages: [
        { role: "system", content: "You see well.\nAnswer in JSON." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is in this picture?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0K" } },
          ],
        },
      ],
      temperature: 0.3,
      top_p: 0.9,
      top_k: 40,
      max_tokens: 200,
      stop: ["END"],
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: 0.25,
      reasoning_effort: "low",
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "response",
          schema: { type: "object", properties: { ok: { type: ["boolean", "null"] } }, required: ["ok"] },
        },
      },
    });
  });

  it("shows the upstream's reasoning as thought parts only when includeThoughts is set", async () => {
    const usage = {
      prompt_tokens: 30,
      completion_tokens: 20,
      total_tokens: 50,
      completion_tokens_details: { reasoning_tokens: 15 },
      prompt_tokens_details: { cached_tokens: 10 },
    };
    fake.behave({ kind: "ok", text: "42", reasoning: "Six times seven.", usage });
    const shown = await ai.models.generateContent({
      model: "fake-model",
      contents: "6*7?",
      config: { thinkingConfig: { includeThoughts: true } },
    });
    expect(shown.candidates?.[0]?.content?.parts).toEqual([
      { text: "Six times seven.", thought: true },
      { text: "42" },
    ]);
    expect(shown.text).toBe("42");
    expect(shown.usageMetadata).toEqual({
      promptTokenCount: 30,
      candidatesTokenCount: 5,
      thoughtsTokenCount: 15,
      cachedContentTokenCount: 10,
      totalTokenCount: 50,
    });
    const hidden = await ai.models.generateContent({ model: "fake-model", contents: "6*7?" });
    expect(hidden.candidates?.[0]?.content?.parts).toEqual([{ text: "42" }]);

    const stream = await ai.models.generateContentStream({
      model: "fake-model",
      contents: "6*7?",
      config: { thinkingConfig: { includeThoughts: true } },
    });
    const thoughts: string[] = [];
    const texts: string[] = [];
    for await (const chunk of stream)
      for (const part of chunk.candidates?.[0]?.content?.parts ?? [])
        if (part.text) (part.thought ? thoughts : texts).push(part.text);
    expect(thoughts.join("")).toBe("Six times seven.");
    expect(texts.join("")).toBe("42");
    fake.behave({ kind: "ok" });
  });
});

describe("a function call round trip", () => {
  const weather = {
    functionDeclarations: [
      {
        name: "get_weather",
        description: "The weather of a city",
        parameters: { type: "OBJECT" as never, properties: { city: { type: "STRING" as never } }, required: ["city"] },
      },
      {
        name: "get_time",
        description: "The time in a city",
        parametersJsonSchema: { type: "object", properties: { city: { type: "string" } } },
      },
    ],
  };

  it("functionCall parts out, functionResponse back in as a tool message with the call's id", async () => {
    script.enqueue(
      { toolCalls: [{ id: "call_w1", name: "get_weather", pieces: ['{"city":', '"Paris"}'] }] },
      { text: ["It is sunny in Paris."] },
    );
    const first: Content = { role: "user", parts: [{ text: "Weather in Paris?" }] };
    const config = {
      tools: [weather],
      toolConfig: {
        functionCallingConfig: { mode: FunctionCallingConfigMode.ANY, allowedFunctionNames: ["get_weather"] },
      },
    };
    const response = await ai.models.generateContent({ model: "tools/model", contents: [first], config });
    expect(response.functionCalls).toEqual([{ id: "call_w1", name: "get_weather", args: { city: "Paris" } }]);
    expect(response.candidates?.[0]?.finishReason).toBe("STOP");
    const asked = script.bodies.at(-1)!;
    expect(asked.tools).toEqual([
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "The weather of a city",
          parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        },
      },
    ]);
    expect(asked.tool_choice).toEqual({ type: "function", function: { name: "get_weather" } });

    const next = await ai.models.generateContent({
      model: "tools/model",
      contents: [
        first,
        response.candidates![0]!.content!,
        {
          role: "user",
          parts: [{ functionResponse: { id: "call_w1", name: "get_weather", response: { output: "sunny, 24 °C" } } }],
        },
      ],
      config: { tools: [weather] },
    });
    expect(next.text).toBe("It is sunny in Paris.");
    expect(script.bodies.at(-1)!.messages).toEqual([
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_w1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_w1", content: "sunny, 24 °C" },
    ]);

    // The second turn carries the first one's answer back: the record threads both into one conversation.
    await proxy.server.ctx.recorder.flush();
    const recorded = rows<{ conversation_id: string; protocol: string; response: string }>(
      proxy.dbPath,
      `SELECT r.conversation_id, e.protocol, r.response FROM responses r JOIN llm_relay_exchanges e ON e.response_id = r.id
        ORDER BY r.id DESC LIMIT 2`,
    ).reverse();
    expect(recorded.map((r) => [r.protocol, r.response])).toEqual([
      ["gemini", ""],
      ["gemini", "It is sunny in Paris."],
    ]);
    expect(recorded[1]!.conversation_id).toBe(recorded[0]!.conversation_id);
  });

  it("streamed: the calls come whole in the last event; calls without ids are paired by name", async () => {
    script.enqueue({
      toolCalls: [
        { id: "call_a", name: "get_weather", pieces: ['{"ci', 'ty":"Oslo"}'] },
        { id: "call_b", name: "get_time", pieces: ['{"city":"Oslo"}'] },
      ],
    });
    const stream = await ai.models.generateContentStream({
      model: "tools/model",
      contents: "Weather and time in Oslo?",
      config: { tools: [weather] },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.at(-1)?.functionCalls).toEqual([
      { id: "call_a", name: "get_weather", args: { city: "Oslo" } },
      { id: "call_b", name: "get_time", args: { city: "Oslo" } },
    ]);
    expect(chunks.at(-1)?.candidates?.[0]?.finishReason).toBe("STOP");

    // A client that keeps no ids (older Gemini clients): the responses answer the calls of their name, in order.
    script.enqueue({ text: ["Rainy, 14:00."] });
    await ai.models.generateContent({
      model: "tools/model",
      contents: [
        { role: "user", parts: [{ text: "Weather and time in Oslo?" }] },
        {
          role: "model",
          parts: [
            { functionCall: { name: "get_weather", args: { city: "Oslo" } } },
            { functionCall: { name: "get_time", args: { city: "Oslo" } } },
          ],
        },
        {
          role: "user",
          parts: [
            { functionResponse: { name: "get_time", response: { output: "14:00" } } },
            { functionResponse: { name: "get_weather", response: { temperature: 9, sky: "rain" } } },
          ],
        },
      ],
      config: { tools: [weather] },
    });
    const messages = script.bodies.at(-1)!.messages as Record<string, unknown>[];
    expect(messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_1_0", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
          { id: "call_1_1", type: "function", function: { name: "get_time", arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1_1", content: "14:00" },
      { role: "tool", tool_call_id: "call_1_0", content: '{"temperature":9,"sky":"rain"}' },
    ]);
  });

  it("toolConfig NONE and AUTO reach the upstream as tool_choice none and auto", async () => {
    script.enqueue({ text: ["ok"] }, { text: ["ok"] });
    for (const mode of [FunctionCallingConfigMode.NONE, FunctionCallingConfigMode.AUTO])
      await ai.models.generateContent({
        model: "tools/model",
        contents: "hi",
        config: { tools: [weather], toolConfig: { functionCallingConfig: { mode } } },
      });
    const choices = script.bodies.slice(-2).map((body) => [body.tool_choice, (body.tools as unknown[]).length]);
    expect(choices).toEqual([
      ["none", 2],
      ["auto", 2],
    ]);
  });
});
