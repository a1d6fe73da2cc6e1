/**
 * Constrained decoding on the `local` provider with the real in-process
 * model (../shared/models/stories260K.gguf, a 260K-parameter TinyStories
 * Llama that knows nothing of tools or JSON), through the proxy and the
 * `openai` SDK: a `tool_choice` naming a function, `tool_choice:
 * "required"` and `response_format: json_schema` are answered under
 * node-llama-cpp's JSON-schema grammar, so the call (or the content) parses
 * and validates against the request's schema, whole and streamed; the SDK's
 * `runTools` runs the constrained call and the conversation goes on with
 * its result, both exchanges recorded. Every answer is bounded by `max_tokens`.
 */
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { deploymentDefaults, type Deployment } from "../../src/config/schema.js";
import { recordedExchange, recordedExchanges } from "../helpers/exchanges.js";
import { rows } from "../helpers/db.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

const MODEL_PATH = fileURLToPath(new URL("../../../shared/models/stories260K.gguf", import.meta.url));

function local(extra: Partial<Deployment> = {}): Deployment {
  return { ...deploymentDefaults("local"), model_path: MODEL_PATH, threads: 1, context_window: 1024, ...extra };
}

/** The function of the brief: `{type: object, properties: {city: {type: string}}, required: [city]}`. */
const CITY_SCHEMA = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
/** {@link CITY_SCHEMA} as a validator. */
const cityArguments = z.object({ city: z.string() });

const TOOLS: OpenAI.ChatCompletionTool[] = [
  { type: "function", function: { name: "get_weather", description: "Weather in a city", parameters: CITY_SCHEMA } },
  {
    type: "function",
    function: {
      name: "get_time",
      parameters: { type: "object", properties: { hour: { type: "integer" } }, required: ["hour"] },
    },
  },
];
const MESSAGES: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Once upon a time in Paris" }];
/** Enough for the JSON object around a short string, small enough to bound the test. */
const MAX_TOKENS = 120;

let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  proxy = await startTestProxy({ models: { tiny: local() } });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy?.close();
});

describe("constrained decoding on the local model", () => {
  it("a tool_choice naming a function returns a call to it whose arguments validate against its schema", async () => {
    const completion = await client.chat.completions.create(
      {
        model: "tiny",
        messages: MESSAGES,
        tools: TOOLS,
        tool_choice: { type: "function", function: { name: "get_weather" } },
        max_tokens: MAX_TOKENS,
      },
      { headers: { "x-request-id": "local-named" } },
    );
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls![0]!;
    expect(call.type).toBe("function");
    expect(call.id).toMatch(/^call_[0-9a-f]{24}$/);
    if (call.type !== "function") throw new Error("not a function call");
    expect(call.function.name).toBe("get_weather");
    expect(cityArguments.safeParse(JSON.parse(call.function.arguments)).success).toBe(true);

    const record = await recordedExchange(proxy, "local-named");
    const recorded = rows<{ name: string; arguments: string }>(
      proxy.dbPath,
      "select name, arguments from tool_calls where response_id = ?",
      record.id,
    );
    expect(recorded.map((row) => ({ name: row.name, arguments: JSON.parse(row.arguments) as unknown }))).toEqual([
      { name: "get_weather", arguments: JSON.parse(call.function.arguments) as unknown },
    ]);
  });

  it('streamed, tool_choice "required": one call to an offered function, arguments valid for that function', async () => {
    const stream = await client.chat.completions.create({
      model: "tiny",
      messages: MESSAGES,
      tools: TOOLS,
      tool_choice: "required",
      max_tokens: MAX_TOKENS,
      stream: true,
    });
    const calls: { name?: string; arguments: string }[] = [];
    let finish: string | null = null;
    let content = "";
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      content += choice.delta.content ?? "";
      for (const piece of choice.delta.tool_calls ?? []) {
        calls[piece.index] ??= { arguments: "" };
        if (piece.function?.name) calls[piece.index]!.name = piece.function.name;
        calls[piece.index]!.arguments += piece.function?.arguments ?? "";
      }
      finish = choice.finish_reason ?? finish;
    }
    expect(finish).toBe("tool_calls");
    expect(content).toBe("");
    expect(calls).toHaveLength(1);
    const [call] = calls;
    const args = JSON.parse(call!.arguments) as unknown;
    if (call!.name === "get_weather") expect(cityArguments.safeParse(args).success).toBe(true);
    else {
      expect(call!.name).toBe("get_time");
      expect(z.object({ hour: z.number().int() }).safeParse(args).success).toBe(true);
    }
  });

  it("response_format json_schema: the content parses and validates against the schema", async () => {
    const completion = await client.chat.completions.create({
      model: "tiny",
      messages: MESSAGES,
      response_format: { type: "json_schema", json_schema: { name: "place", schema: CITY_SCHEMA } },
      max_tokens: MAX_TOKENS,
    });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("stop");
    expect(choice.message.tool_calls ?? []).toEqual([]);
    expect(cityArguments.safeParse(JSON.parse(choice.message.content!)).success).toBe(true);
  });

  it("without a constraint the same request is plain story text, not JSON (the grammar made the difference)", async () => {
    const completion = await client.chat.completions.create({ model: "tiny", messages: MESSAGES, max_tokens: 30 });
    const content = completion.choices[0]!.message.content!;
    expect(content.length).toBeGreaterThan(0);
    expect(() => JSON.parse(content) as unknown).toThrow();
  });

  it("runTools: the SDK runs the constrained call, the next turn carries its result, both recorded", async () => {
    const before = (await recordedExchanges(proxy)).length;
    const seen: unknown[] = [];
    const runner = client.chat.completions.runTools({
      model: "tiny",
      messages: MESSAGES,
      max_tokens: MAX_TOKENS,
      tool_choice: { type: "function", function: { name: "get_weather" } },
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Weather in a city",
            parameters: CITY_SCHEMA,
            parse: (input: string) => cityArguments.parse(JSON.parse(input)),
            function: (args: { city: string }) => {
              seen.push(args);
              return "18 C, cloudy";
            },
          },
        },
      ],
    });
    await runner.done();
    expect(seen).toHaveLength(1);
    // A named function ends runTools after its result; the agent's next turn goes on without a constraint.
    const history = runner.messages;
    expect(history.map((message) => message.role)).toEqual(["user", "assistant", "tool"]);
    const next = await client.chat.completions.create({ model: "tiny", messages: history, max_tokens: 20 });
    expect(next.choices[0]!.message.tool_calls ?? []).toEqual([]);
    expect(next.choices[0]!.message.content).not.toBe("");

    const recorded = (await recordedExchanges(proxy)).slice(before);
    expect(recorded).toHaveLength(2);
    const [call] = rows<{ name: string; arguments: string; tool_call_id: string }>(
      proxy.dbPath,
      "select name, arguments, tool_call_id from tool_calls where response_id = ?",
      recorded[0]!.id,
    );
    expect(call!.name).toBe("get_weather");
    expect(JSON.parse(call!.arguments)).toEqual(seen[0]);
    expect(
      rows(proxy.dbPath, "select name, output, tool_call_id from tool_results where response_id = ?", recorded[1]!.id),
    ).toEqual([{ name: "get_weather", output: "18 C, cloudy", tool_call_id: call!.tool_call_id }]);
  });
});
