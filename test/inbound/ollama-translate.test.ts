/**
 * How Ollama's `/api/chat` and `/api/generate` are translated to a chat
 * upstream and back (issue 20, item 1), with the real `ollama` client over
 * real HTTP: a tool call round trip (arguments as an object, the `tool`
 * message answering the call), `think` and `message.thinking`, `format` as
 * `response_format`, `options` as the chat fields (what chat cannot say left
 * out), `images` as image parts, a stream broken mid-way as an error line.
 * The upstream is a scripted OpenAI-compatible fake; what it received is asserted.
 */
import { Ollama, type ChatResponse, type Message } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "../helpers/exchanges.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { startChatScriptUpstream, type ChatScriptUpstream } from "./helpers/chat-script-upstream.js";

let upstream: ChatScriptUpstream;
let proxy: TestProxy;
let client: Ollama;

beforeAll(async () => {
  upstream = await startChatScriptUpstream();
  proxy = await startTestProxy({ defaultModel: null, models: { chat: fakeDeployment(upstream.baseUrl) } });
  client = new Ollama({ host: proxy.url });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "The weather of a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

/** The body the upstream received last. */
function lastSent(): Record<string, unknown> {
  return upstream.bodies.at(-1)!;
}

async function collect(stream: AsyncIterable<ChatResponse>): Promise<ChatResponse[]> {
  const parts: ChatResponse[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

describe("tools", () => {
  it("a tool call round trip: object arguments to the client, the tool result back as role tool", async () => {
    upstream.enqueue(
      { toolCalls: [{ id: "call_w1", name: "get_weather", pieces: ['{"city":', '"Paris"}'] }] },
      { text: ["It is sunny in Paris."] },
    );
    const messages: Message[] = [{ role: "user", content: "Weather in Paris?" }];
    const first = await client.chat({ model: "chat", messages, tools: [WEATHER_TOOL] });
    expect(first.message.tool_calls).toEqual([
      { id: "call_w1", function: { index: 0, name: "get_weather", arguments: { city: "Paris" } } },
    ]);
    expect(first.done_reason).toBe("stop");
    expect(lastSent().tools).toEqual([WEATHER_TOOL]);

    messages.push(first.message, { role: "tool", content: "sunny, 21 C", tool_name: "get_weather" });
    const second = await client.chat({ model: "chat", messages, tools: [WEATHER_TOOL] });
    expect(second.message.content).toBe("It is sunny in Paris.");
    expect(lastSent().messages).toEqual([
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_w1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_w1", content: "sunny, 21 C" },
    ]);
  });

  it("streamed: the call arrives whole in one object before the done object", async () => {
    upstream.enqueue({
      toolCalls: [
        { id: "call_a", name: "get_weather", pieces: ['{"ci', 'ty":"Oslo"}'] },
        { id: "call_b", name: "get_weather", pieces: ['{"city":"Rome"}'] },
      ],
    });
    const parts = await collect(
      await client.chat({
        model: "chat",
        stream: true,
        tools: [WEATHER_TOOL],
        messages: [{ role: "user", content: "Oslo and Rome?" }],
      }),
    );
    const withCalls = parts.filter((part) => part.message.tool_calls);
    expect(withCalls).toHaveLength(1);
    expect(withCalls[0]!.done).toBe(false);
    expect(withCalls[0]!.message.tool_calls).toEqual([
      { id: "call_a", function: { index: 0, name: "get_weather", arguments: { city: "Oslo" } } },
      { id: "call_b", function: { index: 1, name: "get_weather", arguments: { city: "Rome" } } },
    ]);
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: "stop", eval_count: 5, prompt_eval_count: 20 });
  });

  it("tool results without a tool_name answer the calls in order; calls without ids get stable ones", async () => {
    await client.chat({
      model: "chat",
      messages: [
        { role: "user", content: "Two cities?" },
        {
          role: "assistant",
          content: "",
          tool_calls: [
            { function: { name: "get_weather", arguments: { city: "A" } } },
            { function: { name: "get_weather", arguments: { city: "B" } } },
          ],
        },
        { role: "tool", content: "rain" },
        { role: "tool", content: "snow" },
      ],
    });
    const sent = lastSent().messages as { tool_call_id?: string; tool_calls?: { id: string }[] }[];
    expect(sent[1]!.tool_calls!.map((call) => call.id)).toEqual(["call_1_0", "call_1_1"]);
    expect(sent.slice(2).map((message) => message.tool_call_id)).toEqual(["call_1_0", "call_1_1"]);
  });
});

describe("think", () => {
  it("the answer's reasoning is message.thinking, not streamed and streamed; a level is reasoning_effort", async () => {
    upstream.enqueue(
      { reasoning: ["Two plus ", "two."], text: ["4"] },
      { reasoning: ["Two plus ", "two."], text: ["4"] },
    );
    const answer = await client.chat({
      model: "chat",
      think: "high",
      messages: [{ role: "user", content: "2+2?" }],
    });
    expect(answer.message).toEqual({ role: "assistant", content: "4", thinking: "Two plus two." });
    expect(lastSent().reasoning_effort).toBe("high");
    expect(lastSent()).not.toHaveProperty("think");

    const parts = await collect(
      await client.chat({ model: "chat", stream: true, think: true, messages: [{ role: "user", content: "2+2?" }] }),
    );
    expect(parts.map((part) => part.message.thinking ?? "").join("")).toBe("Two plus two.");
    expect(parts.map((part) => part.message.content).join("")).toBe("4");
    expect(parts.findIndex((part) => part.message.thinking)).toBeLessThan(
      parts.findIndex((part) => part.message.content !== ""),
    );
    expect(lastSent()).not.toHaveProperty("reasoning_effort");
  });

  it("think: false shows no thinking; generate puts it beside response", async () => {
    upstream.enqueue({ reasoning: ["hidden"], text: ["shown"] }, { reasoning: ["pondered"], text: ["done"] });
    const off = await client.chat({ model: "chat", think: false, messages: [{ role: "user", content: "q" }] });
    expect(off.message).toEqual({ role: "assistant", content: "shown" });
    const generated = await client.generate({ model: "chat", prompt: "q", think: true });
    expect(generated).toMatchObject({ response: "done", thinking: "pondered" });
  });
});

describe("format, options, images", () => {
  it("format json and a JSON schema reach the upstream as response_format", async () => {
    await client.chat({ model: "chat", format: "json", messages: [{ role: "user", content: "as JSON" }] });
    expect(lastSent().response_format).toEqual({ type: "json_object" });
    const schema = { type: "object", properties: { age: { type: "integer" } }, required: ["age"] };
    await client.generate({ model: "chat", format: schema, prompt: "as JSON" });
    expect(lastSent().response_format).toEqual({ type: "json_schema", json_schema: { name: "response", schema } });
  });

  it("options become the chat fields; num_ctx, other Modelfile options and keep_alive are left out", async () => {
    await client.chat({
      model: "chat",
      keep_alive: "5m",
      messages: [{ role: "user", content: "sample" }],
      options: {
        num_ctx: 4096,
        num_predict: 64,
        temperature: 0.2,
        top_p: 0.9,
        top_k: 40,
        min_p: 0.05,
        seed: 7,
        stop: ["END", "STOP"],
        frequency_penalty: 0.5,
        presence_penalty: 0.25,
        repeat_penalty: 1.1,
        mirostat: 1,
        num_gpu: 2,
      },
    });
    const sent = lastSent();
    expect(sent).toMatchObject({
      max_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      min_p: 0.05,
      seed: 7,
      stop: ["END", "STOP"],
      frequency_penalty: 0.5,
      presence_penalty: 0.25,
      repeat_penalty: 1.1,
    });
    for (const absent of ["options", "num_ctx", "mirostat", "num_gpu", "keep_alive", "num_predict"])
      expect(sent, absent).not.toHaveProperty(absent);
    // num_predict -1 is Ollama's "no limit": no max_tokens.
    await client.generate({ model: "chat", prompt: "go on", options: { num_predict: -1 } });
    expect(lastSent()).not.toHaveProperty("max_tokens");
  });

  it("images become image_url parts with a data URL of the image's type", async () => {
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    const jpeg = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA==";
    await client.chat({ model: "chat", messages: [{ role: "user", content: "What is this?", images: [png, jpeg] }] });
    expect(lastSent().messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${png}` } },
          { type: "image_url", image_url: { url: `data:image/jpeg;base64,${jpeg}` } },
        ],
      },
    ]);
    await client.generate({ model: "chat", prompt: "And this?", images: [Uint8Array.from([0x89, 0x50, 0x4e, 0x47])] });
    expect(lastSent().messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "And this?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw==" } },
        ],
      },
    ]);
  });
});

describe("a stream broken after it began", () => {
  it("ends with an error line, which the client raises", async () => {
    upstream.enqueue({ text: ["one ", "two ", "three"], breakAfter: 2 });
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const part of await client.chat({
        model: "chat",
        stream: true,
        messages: [{ role: "user", content: "count" }],
      }))
        seen.push(part.message.content);
    })().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/\S/);
    expect(seen.join("")).toBe("one ");

    upstream.enqueue({ text: ["one ", "two ", "three"], breakAfter: 2 });
    const raw = await send(`${proxy.url}/api/chat`, {
      body: { model: "chat", messages: [{ role: "user", content: "count" }] },
    });
    expect(raw.status).toBe(200);
    const lines = raw.text
      .trimEnd()
      .split("\n")
      .map((text) => JSON.parse(text) as Record<string, unknown>);
    expect(lines.at(-1)).toEqual({ error: (failure as Error).message });
    expect(lines.some((line) => line.done === true)).toBe(false);
  });
});
