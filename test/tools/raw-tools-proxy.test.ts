/**
 * Tool calling on a raw-completion backend through the real proxy, with the
 * `openai` SDK, against the loopback llama-server fake answering scripted
 * raw text on a `chatml` deployment (Hermes convention): the tools in the
 * rendered prompt, `tool_calls` out of the text (whole and streamed), the
 * unusable-call rule, and the SDK's `runTools` completing a round trip;
 * each exchange recorded with its calls in `tool_calls` and the results in
 * `tool_results`.
 */
import OpenAI from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { recordedExchange, recordedExchanges } from "../helpers/exchanges.js";
import { LLAMACPP_CHATML_FALLBACK, startFakeLlamaCpp, type FakeLlamaCpp } from "../helpers/fake-llamacpp.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { rawDeployment } from "../helpers/raw-provider.js";
import { TWO_TOOLS, TWO_TOOLS_HERMES } from "./helpers/tools.js";

let fake: FakeLlamaCpp;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeLlamaCpp();
  proxy = await startTestProxy({
    models: {
      qwen: rawDeployment("llamacpp", fake.url, { prompt_format: "chatml", model: "qwen2.5-7b" }),
      "qwen-auto": rawDeployment("llamacpp", fake.url, { prompt_format: "auto" }),
      "plain-auto": rawDeployment("llamacpp", fake.url, { prompt_format: "auto" }),
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
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "What is the weather in Paris, and the time in Tokyo?" },
];
const TOOLS = TWO_TOOLS as OpenAI.ChatCompletionTool[];

/** The prompt the fake must receive for {@link MESSAGES} with {@link TWO_TOOLS}. */
const PROMPT =
  `<|im_start|>system\nYou are a helpful assistant.\n\n${TWO_TOOLS_HERMES}<|im_end|>\n` +
  "<|im_start|>user\nWhat is the weather in Paris, and the time in Tokyo?<|im_end|>\n<|im_start|>assistant\n";

/** A model answering text, then two calls, cut into token-like pieces (one cut inside the marker). */
const TWO_CALLS = [
  "I will look",
  " both up.",
  "\n<tool",
  "_call>\n",
  '{"name": "get_weather", "arguments": {"city": "Par',
  'is"}}\n</tool_call>\n<tool_call>\n{"name": "get_time", ',
  '"arguments": {"timezone": "Asia/Tokyo"}}\n</tool_call>',
];

/** The recorded tool calls of one `responses` row, arguments parsed (llm stores them as `json.dumps` writes them). */
function recordedCalls(responseId: string): { name: string; arguments: unknown; tool_call_id: string }[] {
  return rows<{ name: string; arguments: string; tool_call_id: string }>(
    proxy.dbPath,
    "select name, arguments, tool_call_id from tool_calls where response_id = ? order by id",
    responseId,
  ).map((row) => ({ ...row, arguments: JSON.parse(row.arguments) as unknown }));
}

/** The `tool_convention` of one exchange's `llm_relay_exchanges` row. */
function toolConventionOf(responseId: string): string | null {
  const [row] = rows<{ tool_convention: string | null }>(
    proxy.dbPath,
    "SELECT tool_convention FROM llm_relay_exchanges WHERE response_id = ?",
    responseId,
  );
  return row!.tool_convention;
}

/** A call as {@link recordedCalls} gives it. */
function asRecorded(call: { id?: string; function?: { name?: string; arguments?: string } }) {
  return {
    name: call.function!.name,
    arguments: JSON.parse(call.function!.arguments!) as unknown,
    tool_call_id: call.id,
  };
}

describe("tools on a chatml deployment of llamacpp", () => {
  it("non-streamed: the tools go into the system turn, the calls come back as tool_calls with the text around as content", async () => {
    fake.set({ pieces: TWO_CALLS });
    const completion = await client.chat.completions.create(
      { model: "qwen", messages: MESSAGES, tools: TOOLS },
      { headers: { "x-request-id": "tools-whole" } },
    );
    expect(fake.completions().at(-1)!.body!.prompt).toBe(PROMPT);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBe("I will look both up.");
    const calls = choice.message.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
    expect(calls.map((call) => ({ type: call.type, ...call.function }))).toEqual([
      { type: "function", name: "get_weather", arguments: '{"city":"Paris"}' },
      { type: "function", name: "get_time", arguments: '{"timezone":"Asia/Tokyo"}' },
    ]);
    for (const call of calls) expect(call.id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(calls[0]!.id).not.toBe(calls[1]!.id);

    const row = await recordedExchange(proxy, "tools-whole");
    expect(recordedCalls(row.id)).toEqual(calls.map(asRecorded));
    expect(toolConventionOf(row.id)).toBe("hermes");
  });

  it("streamed: content deltas until the marker, then one tool_calls delta per complete call, then finish_reason tool_calls", async () => {
    fake.set({ pieces: TWO_CALLS });
    const stream = await client.chat.completions.create(
      { model: "qwen", messages: MESSAGES, tools: TOOLS, stream: true },
      { headers: { "x-request-id": "tools-stream" } },
    );
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(fake.completions().at(-1)!.body!.prompt).toBe(PROMPT);
    const deltas = chunks.map((chunk) => chunk.choices[0]!.delta);
    const content = deltas.map((delta) => delta.content ?? "").join("");
    expect(content).toBe("I will look both up.");
    const callDeltas = deltas.flatMap((delta) => delta.tool_calls ?? []);
    expect(callDeltas).toHaveLength(2);
    expect(callDeltas.map(({ index, type, function: fn }) => ({ index, type, ...fn }))).toEqual([
      { index: 0, type: "function", name: "get_weather", arguments: '{"city":"Paris"}' },
      { index: 1, type: "function", name: "get_time", arguments: '{"timezone":"Asia/Tokyo"}' },
    ]);
    // Every content delta comes before the first call delta.
    const firstCall = deltas.findIndex((delta) => delta.tool_calls);
    expect(deltas.slice(firstCall).some((delta) => delta.content)).toBe(false);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("tool_calls");

    const row = await recordedExchange(proxy, "tools-stream");
    expect(recordedCalls(row.id)).toEqual(callDeltas.map(asRecorded));
    expect(toolConventionOf(row.id)).toBe("hermes");
  });

  it("a call to a function that was not offered comes back as text with finish_reason stop", async () => {
    const output = 'Checking.\n<tool_call>\n{"name": "get_stock", "arguments": {"symbol": "ACME"}}\n</tool_call>';
    fake.set({ pieces: [...output] });
    const completion = await client.chat.completions.create({ model: "qwen", messages: MESSAGES, tools: TOOLS });
    expect(completion.choices[0]!.message.content).toBe(output);
    expect(completion.choices[0]!.message.tool_calls).toBeUndefined();
    expect(completion.choices[0]!.finish_reason).toBe("stop");

    const stream = await client.chat.completions.create({
      model: "qwen",
      messages: MESSAGES,
      tools: TOOLS,
      stream: true,
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe(output);
    expect(chunks.some((chunk) => chunk.choices[0]?.delta.tool_calls)).toBe(false);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
  });

  it("tool_choice none renders no tools and reads no calls; a named function renders only it", async () => {
    const output = '<tool_call>\n{"name": "get_time", "arguments": {"timezone": "UTC"}}\n</tool_call>';
    fake.set({ pieces: [output] });
    const none = await client.chat.completions.create({
      model: "qwen",
      messages: MESSAGES,
      tools: TOOLS,
      tool_choice: "none",
    });
    expect(fake.completions().at(-1)!.body!.prompt).toBe(
      "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" +
        "<|im_start|>user\nWhat is the weather in Paris, and the time in Tokyo?<|im_end|>\n<|im_start|>assistant\n",
    );
    expect(none.choices[0]!.message.content).toBe(output);
    expect(none.choices[0]!.finish_reason).toBe("stop");

    const named = await client.chat.completions.create({
      model: "qwen",
      messages: MESSAGES,
      tools: TOOLS,
      tool_choice: { type: "function", function: { name: "get_time" } },
    });
    const prompt = fake.completions().at(-1)!.body!.prompt as string;
    expect(prompt).toContain('{"name": "get_time"');
    expect(prompt).not.toContain('{"name": "get_weather"');
    expect(prompt).toContain('You must call the function "get_time".');
    expect(named.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it.each([false, true])(
    "runTools (stream: %s) completes a call → result → final text round trip, recorded",
    async (stream) => {
      const before = (await recordedExchanges(proxy)).length;
      fake.set({
        respond: (prompt) =>
          prompt.includes("<tool_response>")
            ? ["It is 18 C", " and cloudy in Paris."]
            : ["<tool_call>\n", '{"name": "get_weather", "arguments": {"city": "Paris"}}', "\n</tool_call>"],
      });
      const seen: unknown[] = [];
      const tools = [
        {
          type: "function" as const,
          function: {
            name: "get_weather",
            description: "Current weather in a city",
            parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
            parse: (input: string) => JSON.parse(input) as { city: string },
            function: (args: { city: string }) => {
              seen.push(args);
              return "18 C, cloudy";
            },
          },
        },
      ];
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
      const final = stream
        ? await client.chat.completions.runTools({ model: "qwen", messages, tools, stream: true }).finalContent()
        : await client.chat.completions.runTools({ model: "qwen", messages, tools }).finalContent();
      expect(final).toBe("It is 18 C and cloudy in Paris.");
      expect(seen).toEqual([{ city: "Paris" }]);

      // The second prompt carries the call and its result in the convention's own form.
      const second = fake.completions().at(-1)!.body!.prompt as string;
      expect(second).toContain(
        '<|im_start|>assistant\n<tool_call>\n{"name":"get_weather","arguments":{"city":"Paris"}}\n</tool_call><|im_end|>\n' +
          "<|im_start|>user\n<tool_response>\n18 C, cloudy\n</tool_response><|im_end|>\n<|im_start|>assistant\n",
      );

      const recorded = (await recordedExchanges(proxy)).slice(before);
      expect(recorded).toHaveLength(2);
      const [call] = recordedCalls(recorded[0]!.id);
      expect(call).toMatchObject({ name: "get_weather", arguments: { city: "Paris" } });
      expect(call!.tool_call_id).toMatch(/^call_/);
      expect(
        rows(
          proxy.dbPath,
          "select name, output, tool_call_id from tool_results where response_id = ?",
          recorded[1]!.id,
        ),
      ).toEqual([{ name: "get_weather", output: "18 C, cloudy", tool_call_id: call!.tool_call_id }]);
    },
  );

  it("auto: the model's own template gets the tools, and the answer is read with the convention it teaches", async () => {
    // A small template written for this test that teaches the Hermes answer form, as Qwen's own templates do.
    const template =
      "{% if tools %}<|im_start|>system\nFunctions:{% for tool in tools %} {{ tool.function.name }}{% endfor %}.\n" +
      'Answer a call as <tool_call>{"name": ..., "arguments": {...}}</tool_call><|im_end|>\n{% endif %}' +
      "{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n{% endfor %}" +
      "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
    fake.set({
      chatTemplate: template,
      pieces: ["<tool_call>\n", '{"name": "get_time", "arguments": {"timezone": "UTC"}}', "\n</tool_call>"],
    });
    const completion = await client.chat.completions.create({
      model: "qwen-auto",
      messages: [{ role: "user", content: "Time?" }],
      tools: TOOLS,
    });
    expect(fake.completions().at(-1)!.body!.prompt).toBe(
      "<|im_start|>system\nFunctions: get_weather get_time.\n" +
        'Answer a call as <tool_call>{"name": ..., "arguments": {...}}</tool_call><|im_end|>\n' +
        "<|im_start|>user\nTime?<|im_end|>\n<|im_start|>assistant\n",
    );
    expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
    expect(completion.choices[0]!.message.tool_calls![0]).toMatchObject({
      type: "function",
      function: { name: "get_time", arguments: '{"timezone":"UTC"}' },
    });
  });

  it("auto with a template that ignores tools: the answer stays text", async () => {
    const output = '<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>';
    fake.set({ chatTemplate: LLAMACPP_CHATML_FALLBACK, pieces: [output] });
    const completion = await client.chat.completions.create({
      model: "plain-auto",
      messages: [{ role: "user", content: "Time?" }],
      tools: TOOLS,
    });
    expect(completion.choices[0]!.message.content).toBe(output);
    expect(completion.choices[0]!.finish_reason).toBe("stop");
  });
});
