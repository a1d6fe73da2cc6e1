/**
 * `options_json` as llm writes it, through the real proxy (a loopback fake
 * OpenAI upstream, the real SQLite file).
 *
 * What llm accepts, read from simonw/llm `llm/default_plugins/openai_models.py`
 * at tags 0.31.1 and 0.32: the `Chat` model's `Options` is
 * `build_options_class()` = `SharedOptions` + `json_object` + `image_detail`,
 * a pydantic model whose base (`llm.Options`, llm/models.py) has
 * `extra="forbid"`. Fields, in declaration order:
 *   temperature: float, ge=0, le=2 · max_tokens: int · top_p: float, ge=0, le=1 ·
 *   frequency_penalty: float, ge=-2, le=2 · presence_penalty: float, ge=-2, le=2 ·
 *   stop: str · logit_bias: dict | str (validate_logit_bias: JSON string parsed,
 *   keys int(), values int() in -100..100, else ValueError) · seed: int ·
 *   json_object: bool · image_detail: low|high|auto.
 * No `tools`, `n`, `metadata`, `logprobs`, `parallel_tool_calls`,
 * `response_format`, `max_completion_tokens`, and `stop` is not a list.
 * llm writes `{k: v for k, v in dict(options).items() if v is not None}` with
 * `json.dumps` (0.32 `_dump` in llm/logs.py: NULL when empty, for `turns`;
 * 0.31.1 hands the dict to sqlite-utils, `{}` when empty, for `responses`, and
 * sqlite-utils' jsonify_if_needed dumps it with ensure_ascii=False):
 * `", "`/`": "` separators, non-ASCII escaped in `turns` only, floats as Python floats (`-o temperature 0` is
 * stored as `{"temperature": 0.0}`, see ../shared/fixtures/llm-native/README.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { chat, chatBody, recordedExchange } from "../helpers/exchanges.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { group } from "../server/resilience-helpers.js";

let fake: FakeUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  fake = await startFakeUpstream();
  proxy = await startTestProxy({ models: { local: group("local", [fakeDeployment(fake.baseUrl)]) } });
});

afterAll(async () => {
  await proxy?.close();
  await fake?.close();
});

const TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the weather",
    parameters: { type: "object", properties: { city: { type: "string" } } },
  },
};

/** Sends `extra` in a chat request and gives back what was recorded for it. */
async function record(requestId: string, extra: Record<string, unknown>) {
  const answer = await chat(proxy, chatBody("local", { stream: false, ...extra }), { "x-request-id": requestId });
  expect(answer.status).toBe(200);
  const row = await recordedExchange(proxy, requestId);
  const [response] = rows<{ options_json: string | null; prompt_json: string }>(
    proxy.dbPath,
    "SELECT options_json, prompt_json FROM responses WHERE id = ?",
    row.id,
  );
  const [turn] = rows<{ options_json: string | null }>(
    proxy.dbPath,
    "SELECT options_json FROM turns WHERE id = ?",
    row.id,
  );
  return {
    responses: response!.options_json,
    turns: turn!.options_json,
    promptJson: JSON.parse(response!.prompt_json) as Record<string, unknown>,
  };
}

describe("options_json holds only what llm's OpenAI chat Options accept", () => {
  it("maps what maps, drops the rest, and writes it as llm's json.dumps does; the request keeps every field", async () => {
    const sent = {
      temperature: 0,
      top_p: 1,
      max_completion_tokens: 64,
      frequency_penalty: 0.5,
      presence_penalty: -0.25,
      stop: ["\n\n"],
      logit_bias: { "50256": -100 },
      seed: 7,
      response_format: { type: "json_object" },
      tools: [TOOL],
      tool_choice: "auto",
      n: 1,
      logprobs: true,
      top_logprobs: 2,
      parallel_tool_calls: false,
      metadata: { purpose: "test" },
      user: "someone",
    };
    const got = await record("opts-all", sent);
    const expected =
      '{"temperature": 0.0, "max_tokens": 64, "top_p": 1.0, "frequency_penalty": 0.5, "presence_penalty": -0.25, ' +
      '"stop": "\\n\\n", "logit_bias": {"50256": -100}, "seed": 7, "json_object": true}';
    expect(got.responses).toBe(expected);
    expect(got.turns).toBe(expected);
    // The request body (prompt_json) is untouched: every field as sent.
    for (const [key, value] of Object.entries(sent)) expect(got.promptJson[key], key).toEqual(value);
  });

  it("drops values llm's validation would refuse: responses get {} and turns NULL, as llm writes no options", async () => {
    const got = await record("opts-refused", {
      temperature: 2.5, // le=2
      top_p: 1.5, // le=1
      presence_penalty: -3, // ge=-2
      stop: ["a", "b"], // stop: str, and two stops are not one
      seed: 1.5, // int: a fractional float is refused
      logit_bias: { "50256": -100, notatoken: 5 }, // one bad key refuses the whole option
      response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object" } } },
      tools: [TOOL],
    });
    expect(got.responses).toBe("{}");
    expect(got.turns).toBeNull();
  });

  it("keeps max_tokens over max_completion_tokens, a lone stop string, a logit_bias JSON string, and Python float text", async () => {
    const got = await record("opts-forms", {
      max_tokens: 100,
      max_completion_tokens: 50,
      temperature: 0.00001,
      stop: "END",
      logit_bias: '{"892": -100, "1712": 5.9}',
    });
    // Python's repr(1e-05) is "1e-05"; validate_logit_bias parses the string and makes int(5.9) = 5.
    const expected = '{"temperature": 1e-05, "max_tokens": 100, "stop": "END", "logit_bias": {"892": -100, "1712": 5}}';
    expect(got.responses).toBe(expected);
    expect(got.turns).toBe(expected);
  });

  it("escapes a non-ASCII stop string in turns (llm 0.32's json.dumps) and keeps it in responses (0.31.1 through sqlite-utils)", async () => {
    const got = await record("opts-unicode", { stop: ["Fin — à bientôt"] });
    expect(got.turns).toBe('{"stop": "Fin \\u2014 \\u00e0 bient\\u00f4t"}');
    expect(got.responses).toBe('{"stop": "Fin — à bientôt"}');
  });
});
