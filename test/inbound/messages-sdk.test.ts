/**
 * Anthropic's Messages API served by llm-relay (issue 18, item 1), with the
 * official `@anthropic-ai/sdk` as the client over real HTTP on loopback:
 * `messages.create`, `messages.stream` (its `finalMessage()` rebuilds text,
 * tool use and thinking) and `countTokens`, to `echo` and to an OpenAI chat
 * upstream (translation both ways); errors in Anthropic's shape, seen by the
 * SDK's error classes; an upstream failure mid-stream as `event: error`.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "../helpers/exchanges.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { startChatScriptUpstream, type ChatScriptUpstream } from "./helpers/chat-script-upstream.js";

let upstream: ChatScriptUpstream;
let proxy: TestProxy;
let client: Anthropic;

beforeAll(async () => {
  upstream = await startChatScriptUpstream();
  proxy = await startTestProxy({ models: { chat: fakeDeployment(upstream.baseUrl) } });
  client = new Anthropic({ baseURL: proxy.url, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

const WEATHER_TOOL = {
  name: "get_weather",
  description: "The weather of a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};

/** What the SDK's `APIError` says of an error body (after checking it is one). */
function apiError(error: unknown): { type: string | null; apiMessage: string | null } {
  expect(error).toBeInstanceOf(Anthropic.APIError);
  return error as { type: string | null; apiMessage: string | null };
}

describe("to echo", () => {
  it("messages.create answers the last user text as an Anthropic message", async () => {
    const message = await client.messages.create({
      model: "echo",
      max_tokens: 100,
      system: "Be brief.",
      messages: [{ role: "user", content: "hello there" }],
    });
    expect(message).toMatchObject({
      type: "message",
      role: "assistant",
      model: "echo",
      content: [{ type: "text", text: "hello there" }],
      stop_reason: "end_turn",
      stop_sequence: null,
    });
    expect(message.id).toMatch(/^msg_[0-9a-z]{26}$/);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBe(2);
  });

  it("messages.stream rebuilds the echoed text, with usage from the upstream's count", async () => {
    const stream = client.messages.stream({
      model: "echo",
      max_tokens: 100,
      messages: [{ role: "user", content: [{ type: "text", text: "one two three" }] }],
    });
    const types: string[] = [];
    stream.on("streamEvent", (event) => types.push(event.type));
    const message = await stream.finalMessage();
    expect(message.content).toEqual([{ type: "text", text: "one two three" }]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage.output_tokens).toBe(3);
    // (The SDK does not hand `ping` on; the raw event order is checked in messages-claude-code.test.ts.)
    expect(types.slice(0, 3)).toEqual(["message_start", "content_block_start", "content_block_delta"]);
    expect(types.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
  });

  it("countTokens counts the translated prompt, tools included", async () => {
    const bare = await client.messages.countTokens({
      model: "echo",
      messages: [{ role: "user", content: "How is the weather in Paris today?" }],
    });
    const withTools = await client.messages.countTokens({
      model: "echo",
      system: [{ type: "text", text: "You answer weather questions." }],
      messages: [{ role: "user", content: "How is the weather in Paris today?" }],
      tools: [WEATHER_TOOL],
    });
    expect(bare.input_tokens).toBeGreaterThan(5);
    expect(withTools.input_tokens).toBeGreaterThan(bare.input_tokens + 10);
  });
});

describe("to an OpenAI chat upstream", () => {
  it("translates the request: system, tool history, tool results, images, sampling, tools and tool_choice", async () => {
    upstream.enqueue({ text: ["It is sunny."] });
    const before = upstream.bodies.length;
    // This SDK version no longer types the sampling fields; the API still takes them.
    const params = {
      model: "chat",
      max_tokens: 321,
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ["END"],
      metadata: { user_id: "user-7" },
      system: [
        { type: "text", text: "You are a weather bot.", cache_control: { type: "ephemeral" } },
        { type: "text", text: "Answer in one sentence." },
      ],
      tools: [WEATHER_TOOL],
      tool_choice: { type: "auto", disable_parallel_tool_use: true },
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "I should call the tool.", signature: "sig" },
            { type: "text", text: "Let me check." },
            { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "sunny, 21 C" },
            {
              type: "image",
              source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" },
            },
            { type: "text", text: "And this picture?" },
          ],
        },
      ],
    } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const message = await client.messages.create(params);
    expect(message.content).toEqual([{ type: "text", text: "It is sunny." }]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage).toMatchObject({ input_tokens: 20, output_tokens: 5 });
    const sent = upstream.bodies[before]!;
    expect(sent).toEqual({
      model: "chat",
      max_tokens: 321,
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
      stop: ["END"],
      user: "user-7",
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "The weather of a city",
            parameters: WEATHER_TOOL.input_schema,
          },
        },
      ],
      tool_choice: "auto",
      parallel_tool_calls: false,
      messages: [
        { role: "system", content: "You are a weather bot.\nAnswer in one sentence." },
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: "Let me check.",
          reasoning_content: "I should call the tool.",
          tool_calls: [
            { id: "toolu_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
          ],
        },
        { role: "tool", tool_call_id: "toolu_1", content: "sunny, 21 C" },
        {
          role: "user",
          content: [
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "text", text: "And this picture?" },
          ],
        },
      ],
    });
  });

  it("translates documents, tool results with blocks and is_error, and leaves out what chat cannot carry", async () => {
    upstream.enqueue({ text: ["ok"] });
    const before = upstream.bodies.length;
    const params = {
      model: "chat",
      max_tokens: 10,
      tools: [
        { name: "Read", input_schema: { type: "object", properties: {} } },
        { type: "web_search_20250305", name: "web_search", max_uses: 2 },
      ],
      tool_choice: { type: "none" },
      context_management: { edits: [] },
      messages: [
        {
          role: "user",
          content: [
            { type: "document", title: "Notes", source: { type: "text", media_type: "text/plain", data: "line one" } },
            { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" } },
            { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "redacted_thinking", data: "opaque" },
            { type: "tool_use", id: "toolu_a", name: "Read", input: {} },
            { type: "tool_use", id: "toolu_b", name: "Read", input: { path: "/x" } },
          ],
        },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "toolu_a",
              content: [
                { type: "text", text: "a" },
                { type: "text", text: "b" },
              ],
            },
            { type: "tool_result", tool_use_id: "toolu_b", content: "no such file", is_error: true },
          ],
        },
        { role: "system", content: "Mind the user's time." },
      ],
    } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    await client.messages.create(params);
    const sent = upstream.bodies[before]!;
    expect(sent.tools).toEqual([
      { type: "function", function: { name: "Read", parameters: { type: "object", properties: {} } } },
    ]);
    expect(sent.tool_choice).toBe("none");
    expect(sent).not.toHaveProperty("context_management");
    expect(sent.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "Notes\n\nline one" },
          { type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0=" } },
          { type: "image_url", image_url: { url: "https://example.com/a.png" } },
        ],
      },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "toolu_a", type: "function", function: { name: "Read", arguments: "{}" } },
          { id: "toolu_b", type: "function", function: { name: "Read", arguments: '{"path":"/x"}' } },
        ],
      },
      { role: "tool", tool_call_id: "toolu_a", content: "a\nb" },
      { role: "tool", tool_call_id: "toolu_b", content: "no such file", is_error: true },
      { role: "system", content: "Mind the user's time." },
    ]);
  });

  it("refuses with a 400 naming the field what cannot be translated (a Files API image)", async () => {
    const error = await client.messages
      .create({
        model: "chat",
        max_tokens: 10,
        messages: [{ role: "user", content: [{ type: "image", source: { type: "file", file_id: "file_1" } }] }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(apiError(error).apiMessage).toContain("messages.0.content.0.source.type: an image from the Files API");
  });

  it("answers tool calls as tool_use blocks, with stop_reason tool_use, created and streamed", async () => {
    const call = { id: "call_9", name: "get_weather", pieces: ['{"ci', 'ty": "Par', 'is"}'] };
    upstream.enqueue({ toolCalls: [call] }, { text: ["Checking. "], toolCalls: [call] });
    const created = await client.messages.create({
      model: "chat",
      max_tokens: 50,
      tools: [WEATHER_TOOL],
      tool_choice: { type: "tool", name: "get_weather" },
      messages: [{ role: "user", content: "Weather in Paris?" }],
    });
    expect(created.content).toEqual([
      { type: "tool_use", id: "call_9", name: "get_weather", input: { city: "Paris" } },
    ]);
    expect(created.stop_reason).toBe("tool_use");
    expect(upstream.bodies.at(-1)!.tool_choice).toEqual({ type: "function", function: { name: "get_weather" } });

    const streamed = await client.messages
      .stream({
        model: "chat",
        max_tokens: 50,
        tools: [WEATHER_TOOL],
        tool_choice: { type: "any" },
        messages: [{ role: "user", content: "Weather in Paris?" }],
      })
      .finalMessage();
    expect(streamed.content).toEqual([
      { type: "text", text: "Checking. " },
      { type: "tool_use", id: "call_9", name: "get_weather", input: { city: "Paris" } },
    ]);
    expect(streamed.stop_reason).toBe("tool_use");
    expect(streamed.usage.output_tokens).toBe(5);
    expect(upstream.bodies.at(-1)!.tool_choice).toBe("required");
  });

  it("answers reasoning_content as thinking blocks, created and streamed", async () => {
    const script = { reasoning: ["Paris is ", "in France."], text: ["It is ", "sunny."] };
    upstream.enqueue(script, script);
    const created = await client.messages.create({
      model: "chat",
      max_tokens: 50,
      messages: [{ role: "user", content: "Weather?" }],
    });
    expect(created.content).toEqual([
      { type: "thinking", thinking: "Paris is in France.", signature: "" },
      { type: "text", text: "It is sunny." },
    ]);
    const streamed = await client.messages
      .stream({ model: "chat", max_tokens: 50, messages: [{ role: "user", content: "Weather?" }] })
      .finalMessage();
    expect(streamed.content).toEqual([
      { type: "thinking", thinking: "Paris is in France.", signature: "" },
      { type: "text", text: "It is sunny." },
    ]);
  });

  it("maps finish reasons and cache usage: length → max_tokens, a matched stop sequence, cached tokens apart", async () => {
    upstream.enqueue(
      { text: ["cut"], finishReason: "length" },
      {
        text: ["done"],
        stopReason: "END",
        usage: {
          prompt_tokens: 100,
          completion_tokens: 3,
          total_tokens: 103,
          prompt_tokens_details: { cached_tokens: 60 },
        },
      },
    );
    const cut = await client.messages.create({
      model: "chat",
      max_tokens: 1,
      messages: [{ role: "user", content: "x" }],
    });
    expect(cut.stop_reason).toBe("max_tokens");
    const stopped = await client.messages
      .stream({ model: "chat", max_tokens: 9, stop_sequences: ["END"], messages: [{ role: "user", content: "x" }] })
      .finalMessage();
    expect(stopped.stop_reason).toBe("stop_sequence");
    expect(stopped.stop_sequence).toBe("END");
    expect(stopped.usage).toMatchObject({
      input_tokens: 40,
      output_tokens: 3,
      cache_read_input_tokens: 60,
      cache_creation_input_tokens: 0,
    });
  });

  it("ends a stream the upstream breaks after it began with event: error in Anthropic's shape", async () => {
    upstream.enqueue({ text: ["partial ", "answer ", "never ", "ends"], breakAfter: 2 });
    const response = await fetch(`${proxy.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "chat", max_tokens: 20, stream: true, messages: [{ role: "user", content: "x" }] }),
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    const events = [...text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
    expect(events[0]).toBe("message_start");
    expect(events).toContain("content_block_delta");
    expect(events.at(-1)).toBe("error");
    expect(events).not.toContain("message_stop");
    const last = text.trim().split("\n").at(-1)!;
    const body = JSON.parse(last.replace(/^data: /, "")) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("api_error");
    expect(body.error.message).not.toBe("");
    // The SDK sees it as an API error too.
    upstream.enqueue({ text: ["partial ", "answer ", "never ", "ends"], breakAfter: 2 });
    const stream = client.messages.stream({
      model: "chat",
      max_tokens: 20,
      messages: [{ role: "user", content: "x" }],
    });
    await expect(stream.finalMessage()).rejects.toBeInstanceOf(Anthropic.APIError);
  });

  it("answers an upstream's error status in Anthropic's shape", async () => {
    upstream.enqueue({ status: 400 });
    const error = await client.messages
      .create({ model: "chat", max_tokens: 5, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(apiError(error).type).toBe("invalid_request_error");
  });
});

describe("errors in Anthropic's shape", () => {
  it("400 for a bad body, naming the field; the SDK's BadRequestError sees invalid_request_error", async () => {
    const answer = await send(`${proxy.url}/v1/messages?beta=true`, {
      body: { model: "echo", max_tokens: 10, messages: [{ role: "user", content: [{ type: "text" }] }] },
    });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      type: "error",
      error: { type: "invalid_request_error", message: expect.stringContaining("messages.0.content.0.text") as string },
    });
    const missing = await send(`${proxy.url}/v1/messages`, {
      body: { model: "echo", messages: [{ role: "user", content: "x" }] },
    });
    expect(missing.status).toBe(400);
    expect((missing.json as { error: { message: string } }).error.message).toBe("max_tokens: Field required");
    const error = await client.messages
      .create({ model: "echo", max_tokens: 10, messages: [{ role: "robot" as "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(apiError(error).type).toBe("invalid_request_error");
    expect(apiError(error).apiMessage).toContain("messages.0.role");
  });

  it("404 for a model nothing serves (messages and count_tokens); the SDK's NotFoundError sees not_found_error", async () => {
    const strict = await startTestProxy({ defaultModel: null, models: { chat: fakeDeployment(upstream.baseUrl) } });
    try {
      const sdk = new Anthropic({ baseURL: strict.url, apiKey: "unused", maxRetries: 0 });
      const created = await sdk.messages
        .create({ model: "no-such-model", max_tokens: 5, messages: [{ role: "user", content: "x" }] })
        .catch((e: unknown) => e);
      expect(created).toBeInstanceOf(Anthropic.NotFoundError);
      expect(apiError(created).type).toBe("not_found_error");
      const counted = await sdk.messages
        .countTokens({ model: "no-such-model", messages: [{ role: "user", content: "x" }] })
        .catch((e: unknown) => e);
      expect(counted).toBeInstanceOf(Anthropic.NotFoundError);
    } finally {
      await strict.close();
    }
  });

  it("401 with keys required and a bad or missing x-api-key; a good one is served", async () => {
    const keyed = await startTestProxy();
    try {
      const key = await keyed.server.ctx.tenancy.keys.create({ tenant: "acme" });
      const bad = new Anthropic({ baseURL: keyed.url, apiKey: "lr-not-a-key", maxRetries: 0 });
      const refused = await bad.messages
        .create({ model: "echo", max_tokens: 5, messages: [{ role: "user", content: "x" }] })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(Anthropic.AuthenticationError);
      expect(apiError(refused).type).toBe("authentication_error");
      const none = await send(`${keyed.url}/v1/messages`, {
        body: { model: "echo", max_tokens: 5, messages: [{ role: "user", content: "x" }] },
      });
      expect(none.status).toBe(401);
      expect(none.json).toMatchObject({ type: "error", error: { type: "authentication_error" } });
      const good = new Anthropic({ baseURL: keyed.url, apiKey: key.plaintext, maxRetries: 0 });
      const served = await good.messages.create({
        model: "echo",
        max_tokens: 5,
        messages: [{ role: "user", content: "let me in" }],
      });
      expect(served.content).toEqual([{ type: "text", text: "let me in" }]);
    } finally {
      await keyed.close();
    }
  });
});
