/**
 * The deployment key `tool_convention`: a config with an unknown value is
 * refused naming the known conventions; through the proxy (`openai` SDK,
 * the llama.cpp fake) a `chatml` deployment set to `mistral` offers the
 * tools and reads the answer the Mistral way, writes the history's call and
 * result the Mistral way too, and records `mistral`; `none` puts no tools
 * in the prompt, returns call-shaped text as text, and records no
 * convention (a backend that constrains still answers a named call from its
 * grammar's JSON); a `jinja:` template set to `hermes` gets the tools from the
 * convention, not as its `tools` variable.
 */
import fs from "node:fs";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.js";
import { TOOL_CONVENTION_NAMES } from "../../src/prompt-formats/tools/names.js";
import { getToolConvention } from "../../src/prompt-formats/tools/registry.js";
import { rows } from "../helpers/db.js";
import { recordedExchange } from "../helpers/exchanges.js";
import { startFakeLlamaCpp, type FakeLlamaCpp } from "../helpers/fake-llamacpp.js";
import { startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";
import { rawDeployment } from "../helpers/raw-provider.js";
import { TWO_TOOLS, TWO_TOOLS_HERMES } from "./helpers/tools.js";

let fake: FakeLlamaCpp;
let proxy: TestProxy;
let client: OpenAI;

/** A Jinja template that ignores `tools` and writes ChatML. */
const PLAIN_TEMPLATE =
  "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n";

beforeAll(async () => {
  fake = await startFakeLlamaCpp();
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "plain.jinja"), PLAIN_TEMPLATE);
  proxy = await startTestProxy({
    models: {
      "chatml-mistral": rawDeployment("llamacpp", fake.url, { prompt_format: "chatml", tool_convention: "mistral" }),
      "chatml-none": rawDeployment("llamacpp", fake.url, { prompt_format: "chatml", tool_convention: "none" }),
      "jinja-hermes": rawDeployment("llamacpp", fake.url, {
        prompt_format: `jinja:${path.join(dir, "plain.jinja")}`,
        tool_convention: "hermes",
      }),
    },
  });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy?.close();
  await fake?.close();
});

const TOOLS = TWO_TOOLS as OpenAI.ChatCompletionTool[];
const ASK: OpenAI.ChatCompletionMessageParam = { role: "user", content: "Weather in Paris?" };
const MISTRAL_CALL = '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}]';

function conventionOf(responseId: string): string | null {
  return rows<{ tool_convention: string | null }>(
    proxy.dbPath,
    "select tool_convention from llm_relay_exchanges where response_id = ?",
    responseId,
  )[0]!.tool_convention;
}

describe("tool_convention in the config", () => {
  it("every name the config accepts is the name of a registered convention", () => {
    expect(TOOL_CONVENTION_NAMES.map((name) => getToolConvention(name)?.name)).toEqual([...TOOL_CONVENTION_NAMES]);
  });

  it("an unknown value is refused, naming the known conventions", () => {
    const dir = tempDir();
    const file = path.join(dir, "llm-relay.yaml");
    fs.writeFileSync(
      file,
      "models:\n  m:\n    provider: llamacpp\n    base_url: http://127.0.0.1:9\n    tool_convention: qwen\n",
    );
    let thrown: unknown;
    try {
      loadConfig({ cwd: dir, env: {}, configPath: file });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toContain(
      "models.m.tool_convention: must be a tool convention (hermes, llama3-json, mistral, memgpt) or none",
    );
  });
});

describe("tool_convention through the proxy", () => {
  it("mistral on chatml: tools offered and the call read the Mistral way, recorded as mistral", async () => {
    fake.set({ pieces: [MISTRAL_CALL.slice(0, 9), MISTRAL_CALL.slice(9)] });
    const completion = await client.chat.completions.create(
      { model: "chatml-mistral", messages: [ASK], tools: TOOLS },
      { headers: { "x-request-id": "tc-mistral" } },
    );
    const prompt = fake.completions().at(-1)!.body!.prompt as string;
    expect(prompt).toMatch(/^<\|im_start\|>system\n\[AVAILABLE_TOOLS\] \[/);
    expect(prompt).not.toContain("<tools>");
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.tool_calls?.map((call) => call.type === "function" && call.function)).toEqual([
      { name: "get_weather", arguments: '{"city":"Paris"}' },
    ]);
    expect(conventionOf((await recordedExchange(proxy, "tc-mistral")).id)).toBe("mistral");
  });

  it("mistral on chatml: the history's call and result are written the Mistral way", async () => {
    fake.set({ pieces: ["It is sunny."] });
    await client.chat.completions.create({
      model: "chatml-mistral",
      messages: [
        ASK,
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "sunny" },
      ],
      tools: TOOLS,
    });
    const prompt = fake.completions().at(-1)!.body!.prompt as string;
    expect(prompt).toContain(
      `<|im_start|>assistant\n[TOOL_CALLS] [{"name":"get_weather","arguments":{"city":"Paris"}}]<|im_end|>\n` +
        `<|im_start|>user\n[TOOL_RESULTS] {"content":"sunny"}[/TOOL_RESULTS]<|im_end|>\n<|im_start|>assistant\n`,
    );
    expect(prompt).not.toContain("<tool_call>");
    expect(prompt).not.toContain("<tool_response>");
  });

  it("none: no tools in the prompt, call-shaped text stays text, no convention recorded", async () => {
    const hermesCall = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
    fake.set({ pieces: [hermesCall] });
    const completion = await client.chat.completions.create(
      { model: "chatml-none", messages: [ASK], tools: TOOLS },
      { headers: { "x-request-id": "tc-none" } },
    );
    expect(fake.completions().at(-1)!.body!.prompt).toBe(
      "<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n",
    );
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect(completion.choices[0]!.message.tool_calls).toBeUndefined();
    expect(completion.choices[0]!.message.content).toBe(hermesCall);
    expect(conventionOf((await recordedExchange(proxy, "tc-none")).id)).toBeNull();
  });

  it("none on a backend that constrains: a named call still comes from the grammar's JSON, with no tools in the prompt", async () => {
    fake.set({ pieces: ['{"name": "get_weather", ', '"arguments": {"city": "Paris"}}'] });
    const completion = await client.chat.completions.create(
      {
        model: "chatml-none",
        messages: [ASK],
        tools: TOOLS,
        tool_choice: { type: "function", function: { name: "get_weather" } },
      },
      { headers: { "x-request-id": "tc-none-named" } },
    );
    const body = fake.completions().at(-1)!.body!;
    expect(body.prompt).toBe("<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n");
    expect(body.json_schema).toMatchObject({ properties: { name: { const: "get_weather" } } });
    expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
    expect(conventionOf((await recordedExchange(proxy, "tc-none-named")).id)).toBeNull();
  });

  it("hermes on a jinja template that ignores tools: the convention puts them in the system turn and reads the call", async () => {
    const call = '<tool_call>\n{"name": "get_time", "arguments": {"timezone": "UTC"}}\n</tool_call>';
    fake.set({ pieces: [call] });
    const completion = await client.chat.completions.create(
      { model: "jinja-hermes", messages: [ASK], tools: TOOLS },
      { headers: { "x-request-id": "tc-jinja" } },
    );
    expect(fake.completions().at(-1)!.body!.prompt).toBe(
      // Jinja drops the template's final newline.
      `<|im_start|>system\n${TWO_TOOLS_HERMES}<|im_end|>\n<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant`,
    );
    expect(completion.choices[0]!.message.tool_calls?.map((c) => c.type === "function" && c.function.name)).toEqual([
      "get_time",
    ]);
    expect(conventionOf((await recordedExchange(proxy, "tc-jinja")).id)).toBe("hermes");
  });
});
