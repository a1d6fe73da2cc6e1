/**
 * How OpenAI requests reach Anthropic: the body the fake Messages API
 * received (it answers 400, as Anthropic does, to anything the API would
 * refuse: unknown fields, a system role, non-alternating turns, misplaced
 * tool results…) for system prompts, merged turns, images, sampling
 * options, tool choices, the default max_tokens and extra_body.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lookupModel } from "../../src/catalog/index.js";
import {
  FAKE_ANTHROPIC_KEY,
  startFakeAnthropic,
  type FakeAnthropicUpstream,
} from "../helpers/fake-anthropic-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";

const MODEL = "claude-sonnet-4-20250514";
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

let fake: FakeAnthropicUpstream;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  const anthropic = (extra: Parameters<typeof fakeDeployment>[1]) =>
    fakeDeployment(fake.baseUrl, { provider: "anthropic", api_key_env: "ANTHROPIC_API_KEY", model: MODEL, ...extra });
  proxy = await startTestProxy(
    {
      models: {
        claude: anthropic({}),
        "claude-capped": anthropic({ max_output_tokens: 1000 }),
        "claude-uncatalogued": anthropic({ model: "claude-experimental-x" }),
        "claude-v1-url": anthropic({ base_url: `${fake.baseUrl}/v1/`, extra_body: { top_k: 5 } }),
      },
    },
    { env: { ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY } },
  );
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});

/** Sends a request through the proxy and returns the body Anthropic received (after checking it was accepted). */
async function sentFor(
  params: Omit<OpenAI.ChatCompletionCreateParamsNonStreaming, "model"> & { model?: string } & Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const before = fake.requests.length;
  const completion = await client.chat.completions.create({
    model: "claude",
    ...params,
  });
  expect(completion.choices[0]!.message.content).toContain("Hello!");
  expect(fake.requests).toHaveLength(before + 1);
  const sent = fake.requests.at(-1)!;
  expect(sent.rejected).toBeNull();
  return sent.body;
}

const getWeather: OpenAI.ChatCompletionTool = {
  type: "function",
  function: { name: "get_weather", parameters: { type: "object", properties: { location: { type: "string" } } } },
};
const getTime: OpenAI.ChatCompletionTool = {
  type: "function",
  function: { name: "get_time", description: "The time in a given city" },
};

describe("anthropic request mapping", () => {
  it("every system and developer message goes, in order, into system; consecutive user messages become one turn", async () => {
    const body = await sentFor({
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "First question" },
        { role: "developer", content: [{ type: "text", text: "Answer in English." }] },
        { role: "user", content: [{ type: "text", text: "Second part" }] },
        { role: "assistant", content: "An answer" },
        { role: "assistant", content: "" },
        { role: "user", content: "Thanks" },
      ],
    });
    expect(body.system).toEqual([
      { type: "text", text: "You are terse." },
      { type: "text", text: "Answer in English." },
    ]);
    expect(body.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "First question" },
          { type: "text", text: "Second part" },
        ],
      },
      { role: "assistant", content: [{ type: "text", text: "An answer" }] },
      { role: "user", content: [{ type: "text", text: "Thanks" }] },
    ]);
  });

  it("image parts: a base64 data: URL inline, an https URL as a url source", async () => {
    const body = await sentFor({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Compare these" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
            {
              type: "image_url",
              image_url: {
                url: "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg",
                detail: "high",
              },
            },
          ],
        },
      ],
    });
    expect(body.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "Compare these" },
          { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
          {
            type: "image",
            source: {
              type: "url",
              url: "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg",
            },
          },
        ],
      },
    ]);
  });

  it("sampling options are mapped, user becomes metadata.user_id, OpenAI-only fields are dropped", async () => {
    const body = await sentFor({
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 300,
      max_completion_tokens: 200,
      temperature: 0.3,
      top_p: 0.9,
      stop: ["END", "STOP"],
      user: "tenant-42",
      seed: 7,
      frequency_penalty: 0.5,
      presence_penalty: 0.1,
      logprobs: true,
      response_format: { type: "text" },
      store: false,
    });
    expect(body).toEqual({
      model: MODEL,
      max_tokens: 200,
      messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
      temperature: 0.3,
      top_p: 0.9,
      stop_sequences: ["END", "STOP"],
      metadata: { user_id: "tenant-42" },
    });
  });

  it("max_tokens defaults to the deployment's max_output_tokens, else the catalog's max output, else 4096", async () => {
    const hi = [{ role: "user" as const, content: "Hi" }];
    expect((await sentFor({ model: "claude-capped", messages: hi })).max_tokens).toBe(1000);
    expect((await sentFor({ model: "claude", messages: hi })).max_tokens).toBe(
      lookupModel("anthropic", MODEL)!.maxOutputTokens,
    );
    expect(lookupModel("anthropic", "claude-experimental-x")).toBeNull();
    const uncatalogued = await sentFor({ model: "claude-uncatalogued", messages: hi });
    expect(uncatalogued).toMatchObject({ model: "claude-experimental-x", max_tokens: 4096 });
  });

  it("a base_url ending in /v1 still posts to /v1/messages; extra_body fields are merged in", async () => {
    const body = await sentFor({ model: "claude-v1-url", messages: [{ role: "user", content: "Hi" }] });
    expect(fake.requests.at(-1)!.path).toBe("/v1/messages");
    expect(body.top_k).toBe(5);
  });

  it.each([
    ["auto", {}, { type: "auto" }],
    ["none", {}, { type: "none" }],
    ["required", {}, { type: "any" }],
    ["required", { parallel_tool_calls: false }, { type: "any", disable_parallel_tool_use: true }],
    [{ type: "function", function: { name: "get_time" } }, {}, { type: "tool", name: "get_time" }],
  ] as const)("tool_choice %j %j → %j", async (toolChoice, extra, expected) => {
    const body = await sentFor({
      messages: [{ role: "user", content: "Weather and time in Paris?" }],
      tools: [getWeather, getTime],
      tool_choice: toolChoice,
      ...extra,
    });
    expect(body.tool_choice).toEqual(expected);
    expect(body.tools).toEqual([
      { name: "get_weather", input_schema: { type: "object", properties: { location: { type: "string" } } } },
      { name: "get_time", description: "The time in a given city", input_schema: { type: "object", properties: {} } },
    ]);
  });

  it("parallel tool calls: their results become one user turn, tool_result blocks before the user's next words", async () => {
    const body = await sentFor({
      messages: [
        { role: "user", content: "Weather and time in Paris?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "toolu_01", type: "function", function: { name: "get_weather", arguments: '{"location":"Paris"}' } },
            { id: "toolu_02", type: "function", function: { name: "get_time", arguments: "" } },
          ],
        },
        { role: "tool", tool_call_id: "toolu_01", content: "12 degrees" },
        { role: "tool", tool_call_id: "toolu_02", content: "14:05" },
        { role: "user", content: "And in French please." },
      ],
      tools: [getWeather, getTime],
    });
    expect(body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Weather and time in Paris?" }] },
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "toolu_01", name: "get_weather", input: { location: "Paris" } },
          { type: "tool_use", id: "toolu_02", name: "get_time", input: {} },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_01", content: "12 degrees" },
          { type: "tool_result", tool_use_id: "toolu_02", content: "14:05" },
          { type: "text", text: "And in French please." },
        ],
      },
    ]);
  });
});
