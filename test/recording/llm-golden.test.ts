/**
 * Golden comparison (issue 17): the llm tables the proxy writes when it
 * replays the requests llm itself sent (shared/fixtures/llm-native/), against
 * the rows llm writes for the same conversations, table by table.
 *
 * The reference `*.logs.db` files written by the real llm are not in the
 * shared folder yet, so the expected rows are derived from llm's writers by
 * test/fixtures/llm-golden/derive.py (see the README there):
 * llm-0.32.json (the message store, 0.32's `LogStore`) and llm-0.31.1.json
 * (the legacy tables, 0.31.1's `Response.log_to_db`). Both sides go through
 * the same `readLlmTables`, which reads a real llm file the same way once one
 * is added (see the README there).
 */
import fs from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { startTestProxy, fakeDeployment, type TestProxy } from "../helpers/proxy.js";
import { readLlmTables, comparable, type LlmTables } from "./llm-golden.js";
import { startNativeUpstream, type NativeAnswer, type NativeUpstream } from "./fake-llm-native-upstream.js";

const SHARED = new URL("../../../shared/fixtures/", import.meta.url);
const NATIVE = new URL("llm-native/", SHARED);

const readJsonl = (url: URL) =>
  fs
    .readFileSync(url, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const golden = (version: string) =>
  JSON.parse(fs.readFileSync(new URL(`../fixtures/llm-golden/llm-${version}.json`, import.meta.url), "utf8")) as Record<
    string,
    LlmTables
  >;

/**
 * Columns that legitimately differ between llm's file and the proxy's, with the reason.
 * Everything else is compared as written.
 */
const DIFFERING: Readonly<Record<string, string>> = {
  "conversations.model":
    "llm stores its model id (`relay-echo`, from extra-openai-models.yaml); the proxy the model name the client sent (`TestModelName`)",
  "responses.model": "as conversations.model",
  "turns.model": "as conversations.model",
  "responses.resolved_model":
    "both take it from the upstream's `model` field, llm through its OpenAI plugin (not derivable from logs.py alone)",
  "turns.resolved_model": "as responses.resolved_model",
  "responses.datetime_utc": "the time of the run",
  "turns.datetime_utc": "the time of the run",
  "threads.datetime_utc": "the time of the run",
  "responses.duration_ms": "the time of the run",
  "turns.duration_ms": "the time of the run",
  "responses.input_tokens": "the fake upstream's token counts",
  "responses.output_tokens": "the fake upstream's token counts",
  "turns.input_tokens": "the fake upstream's token counts",
  "turns.output_tokens": "the fake upstream's token counts",
  "responses.response_json":
    "llm stores its plugin's response.json() condensed against the prompt (condense_json); the proxy the completion the client got",
  "turns.response_json":
    "llm 0.32 stores response.json() condensed against the turn's messages (condense_payload); the proxy the completion the client got",
  "responses.prompt_json":
    "llm 0.31.1 stores its plugin's {messages} condensed; the proxy the request body as the client sent it",
};

/** The aider fixture's assistant messages: the n-th answers the n-th request, the 6th echoes the question (aider-6-turns/README). */
function aiderAnswers(): (body: Record<string, unknown>, n: number) => NativeAnswer {
  const fixture = JSON.parse(fs.readFileSync(new URL("aider-chat-request.json", SHARED), "utf8")) as {
    messages: { role: string; content: string }[];
  };
  const answers = fixture.messages.filter((m) => m.role === "assistant").map((m) => m.content);
  return (body, n) => {
    const messages = body.messages as { content: string }[];
    return {
      content: answers[n] ?? messages[messages.length - 1]!.content,
      usage: { prompt_tokens: 900 + n, completion_tokens: 40 + n },
    };
  };
}

/** tool-call/README: first a tool call (`call_w1`, `{"city": "Paris"}`), then "It is sunny in Paris." (usage 50/10). */
function toolCallAnswers(): (body: Record<string, unknown>, n: number) => NativeAnswer {
  return (body) => {
    const messages = body.messages as { role: string }[];
    return messages[messages.length - 1]!.role === "tool"
      ? { content: "It is sunny in Paris.", usage: { prompt_tokens: 50, completion_tokens: 10 } }
      : {
          content: null,
          toolCalls: [{ id: "call_w1", name: "get_weather", arguments: '{"city": "Paris"}' }],
          usage: { prompt_tokens: 40, completion_tokens: 8 },
        };
  };
}

const SCENARIOS = {
  "aider-6-turns": {
    answers: aiderAnswers,
    requests: (version: string) => readJsonl(new URL(`aider-6-turns/requests-${version}.jsonl`, NATIVE)),
  },
  // requests.jsonl: 0.32's two requests (the assistant message with `"content": null`), then 0.31.1's (without `content`).
  "tool-call": {
    answers: toolCallAnswers,
    requests: (version: string) =>
      readJsonl(new URL("tool-call/requests.jsonl", NATIVE)).slice(
        version === "0.32" ? 0 : 2,
        version === "0.32" ? 2 : 4,
      ),
  },
} as const;

let proxy: TestProxy | null = null;
let upstream: NativeUpstream | null = null;
afterEach(async () => {
  await proxy?.close();
  await upstream?.close();
  proxy = null;
  upstream = null;
});

/** Replays `requests` through a new proxy in front of the fake, in order, and returns the proxy's logs.db tables. */
async function replay(
  requests: Record<string, unknown>[],
  answers: (body: Record<string, unknown>, n: number) => NativeAnswer,
): Promise<LlmTables> {
  upstream = await startNativeUpstream(answers);
  proxy = await startTestProxy({ models: { TestModelName: fakeDeployment(upstream.baseUrl) } });
  for (const body of requests) {
    const res = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    await res.text();
    // Each request is recorded before the next one, as llm logs each response before the next prompt.
    await proxy.server.ctx.recorder.flush();
  }
  expect(upstream.requests).toHaveLength(requests.length);
  return readLlmTables(proxy.dbPath);
}

describe.each(["0.32", "0.31.1"])("the llm %s tables the proxy writes, against llm's own", (version) => {
  it.each(Object.keys(SCENARIOS) as (keyof typeof SCENARIOS)[])("%s", async (scenario) => {
    const expected = golden(version)[scenario]!;
    const { requests, answers } = SCENARIOS[scenario];
    const tables = await replay(requests(version), answers());
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    for (const table of Object.keys(expected)) {
      expect(comparable(tables, expected, DIFFERING)[table], `${version} ${scenario}: ${table}`).toEqual(
        expected[table],
      );
    }
  });
});
