/**
 * Tool calling on a `koboldcpp` deployment (`chatml`, Hermes convention)
 * through the real proxy with the `openai` SDK, against the KoboldCpp fake
 * answering raw text: the tools in the prompt sent to the generate
 * endpoints, calls read whole and streamed, and `runTools` completing a
 * call → result → final text round trip (the tool function switches the
 * fake's answer, so the second request gets the final text), recorded.
 */
import OpenAI from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { recordedExchanges } from "../helpers/exchanges.js";
import { startFakeKoboldCpp, type FakeKoboldCpp } from "../helpers/fake-koboldcpp.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { rawDeployment } from "../helpers/raw-provider.js";
import { TWO_TOOLS, TWO_TOOLS_HERMES } from "./helpers/tools.js";

let fake: FakeKoboldCpp;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeKoboldCpp();
  proxy = await startTestProxy({
    models: { kobold: rawDeployment("koboldcpp", fake.url, { prompt_format: "chatml" }) },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});
beforeEach(() => fake.set({}));

const CALL_PIECES = ["<tool_call>\n", '{"name": "get_weather", ', '"arguments": {"city": "Paris"}}', "\n</tool_call>"];
const FINAL_PIECES = ["It is 18 C", " and cloudy in Paris."];
const TOOLS = TWO_TOOLS as OpenAI.ChatCompletionTool[];

describe("tools on a chatml deployment of koboldcpp", () => {
  it("the tools reach the prompt and the call comes back, whole and streamed", async () => {
    fake.set({ text: CALL_PIECES.join(""), pieces: CALL_PIECES, finishReason: "stop" });
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
    const completion = await client.chat.completions.create({ model: "kobold", messages, tools: TOOLS });
    expect(fake.generations().at(-1)!.body!.prompt).toBe(
      `<|im_start|>system\n${TWO_TOOLS_HERMES}<|im_end|>\n<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n`,
    );
    expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
    expect(completion.choices[0]!.message.content).toBeNull();
    expect(completion.choices[0]!.message.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call_/) as string,
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      },
    ]);

    const stream = await client.chat.completions.create({ model: "kobold", messages, tools: TOOLS, stream: true });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toEqual([
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
    fake.set({ text: CALL_PIECES.join(""), pieces: CALL_PIECES, finishReason: "stop" });
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
            fake.set({ text: FINAL_PIECES.join(""), pieces: FINAL_PIECES, finishReason: "stop" });
            return `18 C, cloudy in ${args.city}`;
          },
        },
      },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
    const final = stream
      ? await client.chat.completions.runTools({ model: "kobold", messages, tools, stream: true }).finalContent()
      : await client.chat.completions.runTools({ model: "kobold", messages, tools }).finalContent();
    expect(final).toBe("It is 18 C and cloudy in Paris.");
    expect(fake.generations().at(-1)!.body!.prompt).toContain(
      "<|im_start|>user\n<tool_response>\n18 C, cloudy in Paris\n</tool_response><|im_end|>\n<|im_start|>assistant\n",
    );

    const recorded = (await recordedExchanges(proxy)).slice(before);
    expect(recorded).toHaveLength(2);
    const calls = rows<{ name: string; tool_call_id: string }>(
      proxy.dbPath,
      "select name, tool_call_id from tool_calls where response_id = ?",
      recorded[0]!.id,
    );
    expect(calls).toEqual([{ name: "get_weather", tool_call_id: expect.stringMatching(/^call_/) as string }]);
    expect(
      rows(proxy.dbPath, "select name, output, tool_call_id from tool_results where response_id = ?", recorded[1]!.id),
    ).toEqual([{ name: "get_weather", output: "18 C, cloudy in Paris", tool_call_id: calls[0]!.tool_call_id }]);
  });
});
