/**
 * A reasoning model's answer through the real proxy, with the official
 * `openai` SDK as the client, from each kind of upstream (loopback fakes
 * speaking their documented or captured protocols): an OpenAI-compatible
 * server passed through (llama-server 2026-09's compact chunks with a
 * `content: null` role chunk and `timings` beside `usage`; Python's
 * spaced JSON; OpenRouter's `reasoning`; DeepSeek's cache counts), Ollama's
 * `message.thinking` and Anthropic's `thinking` blocks, streamed and not.
 *
 * The client sees the reasoning in `reasoning_content` (or, passed through,
 * in the field the upstream used); the recorder's ExchangeRecord holds it
 * as `reasoning` with llm's `token_details` in `usage.details` and a cost
 * that prices cached prompt tokens at the catalog's cached price; the
 * SQLite file's `response_json` keeps it on the message and
 * `llm_relay_exchanges.cost_usd` holds the same cost.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countTextTokens } from "../../src/tokens/count.js";
import { rows } from "../helpers/db.js";
import {
  FAKE_ANTHROPIC_KEY,
  startFakeAnthropic,
  type FakeAnthropicUpstream,
} from "../helpers/fake-anthropic-upstream.js";
import { startFakeOllama, type FakeOllama } from "../helpers/fake-ollama.js";
import { DEFAULT_TEXT, startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment } from "../helpers/proxy.js";
import { startRecordingProxy, type RecordingProxy } from "../helpers/recording-proxy.js";

const REASONING = "The user wants a story. A girl, a park, a ball: keep it short.";
const ANTHROPIC_MODEL = "claude-sonnet-4-20250514";
const ANTHROPIC_THINKING = "The user asks for 27 * 453. 27 * 453 = 27 * 400 + 27 * 53 = 10800 + 1431 = 12231.";
const ANTHROPIC_ANSWER = "27 × 453 = 12,231.";
const OLLAMA_THINKING = "Rayleigh scattering: shorter wavelengths scatter more.";
const OLLAMA_ANSWER = "The sky is blue because of Rayleigh scattering.";

let openai: FakeUpstream;
let ollama: FakeOllama;
let anthropic: FakeAnthropicUpstream;
let proxy: RecordingProxy;
let client: OpenAI;

beforeAll(async () => {
  [openai, ollama, anthropic] = await Promise.all([startFakeUpstream(), startFakeOllama(), startFakeAnthropic()]);
  proxy = await startRecordingProxy(
    {
      llama: fakeDeployment(openai.baseUrl),
      "deepseek/*": fakeDeployment(openai.baseUrl, { api_key_env: "DEEPSEEK_API_KEY" }),
      "llama-no-usage": fakeDeployment(openai.baseUrl, { stream_usage: false }),
      ollama: fakeDeployment(ollama.baseUrl, { provider: "ollama", model: "llama3.2" }),
      claude: fakeDeployment(anthropic.baseUrl, {
        provider: "anthropic",
        api_key_env: "ANTHROPIC_API_KEY",
        model: ANTHROPIC_MODEL,
      }),
    },
    { ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, DEEPSEEK_API_KEY: "sk-test" },
  );
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy?.close();
  await Promise.all([openai?.close(), ollama?.close(), anthropic?.close()]);
});

const question: OpenAI.ChatCompletionMessageParam = { role: "user", content: "Tell me a story" };

/** A delta or message as the client got it, with the fields the SDK does not type. */
type WithReasoning = { content?: string | null; reasoning_content?: string | null; reasoning?: string | null };

/** Streams a chat and collects, in order, the text and the reasoning the client saw in `field`. */
async function streamed(
  body: Record<string, unknown>,
  requestId: string,
  field: "reasoning_content" | "reasoning" = "reasoning_content",
) {
  const stream = await client.chat.completions.create(
    { messages: [question], ...body, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming,
    { headers: { "x-request-id": requestId } },
  );
  let text = "";
  let reasoning = "";
  const order: string[] = [];
  for await (const chunk of stream) {
    const delta = (chunk.choices[0]?.delta ?? {}) as WithReasoning;
    if (delta[field]) {
      reasoning += delta[field];
      if (order.at(-1) !== "reasoning") order.push("reasoning");
    }
    if (delta.content) {
      text += delta.content;
      if (order.at(-1) !== "content") order.push("content");
    }
  }
  return { text, reasoning, order };
}

async function completed(body: Record<string, unknown>, requestId: string) {
  const completion = await client.chat.completions.create(
    { messages: [question], ...body } as OpenAI.ChatCompletionCreateParamsNonStreaming,
    { headers: { "x-request-id": requestId } },
  );
  return completion.choices[0]!.message as unknown as WithReasoning;
}

/** What the SQLite file holds for the request: the message of `response_json`, `response`, the cost and status. */
function fileRow(requestId: string) {
  const [row] = rows<{ response: string; response_json: string; cost_usd: number | null; status: string }>(
    proxy.dbPath,
    `select r.response, r.response_json, x.cost_usd, x.status from responses r join llm_relay_exchanges x on x.response_id = r.id where x.request_id = ?`,
    requestId,
  );
  expect(row, requestId).toBeDefined();
  const message = (JSON.parse(row!.response_json) as { choices: { message: WithReasoning }[] }).choices[0]!.message;
  return { ...row!, message };
}

describe("OpenAI-compatible upstream, passed through", () => {
  it("streamed, llama-server 2026-09 chunks: reasoning_content before the answer, and the cached prompt tokens in token_details", async () => {
    openai.enqueue({ kind: "ok", reasoning: REASONING, llamaServer2026: true });
    const seen = await streamed({ model: "llama" }, "reasoning-llama-stream");
    expect(seen).toEqual({ text: DEFAULT_TEXT, reasoning: REASONING, order: ["reasoning", "content"] });

    const record = await proxy.recordOf("reasoning-llama-stream");
    expect(record.status).toBe("ok");
    expect(record.reasoning).toBe(REASONING);
    expect(record.responseText).toBe(DEFAULT_TEXT);
    // The captured usage chunk: 46 prompt tokens, 45 of them cached; `timings` (beside usage) is not part of it.
    expect(record.usage).toEqual({
      input: 46,
      output: 4,
      estimated: false,
      details: { prompt_tokens_details: { cached_tokens: 45 } },
    });
    const file = fileRow("reasoning-llama-stream");
    expect(file.response).toBe(DEFAULT_TEXT);
    expect(file.message.reasoning_content).toBe(REASONING);
  });

  it("not streamed, Python's spaced JSON: the message's reasoning_content reaches the client and the record", async () => {
    const usage = {
      prompt_tokens: 46,
      completion_tokens: 12,
      total_tokens: 58,
      completion_tokens_details: { reasoning_tokens: 9, audio_tokens: 0 },
    };
    openai.enqueue({ kind: "ok", reasoning: REASONING, spaced: true, usage });
    const message = await completed({ model: "llama" }, "reasoning-llama-whole");
    expect(message.content).toBe(DEFAULT_TEXT);
    expect(message.reasoning_content).toBe(REASONING);
    expect(openai.requests.at(-1)!.bodySent).toContain('"reasoning_content": "The user'); // the upstream really wrote spaced JSON

    const record = await proxy.recordOf("reasoning-llama-whole");
    expect(record.reasoning).toBe(REASONING);
    expect(record.usage).toEqual({
      input: 46,
      output: 12,
      estimated: false,
      details: { completion_tokens_details: { reasoning_tokens: 9 } },
    });
    expect(fileRow("reasoning-llama-whole").message.reasoning_content).toBe(REASONING);
  });

  it("streamed with spaced JSON and OpenRouter's `reasoning` field: the client gets the upstream's field, the record the text", async () => {
    openai.enqueue({ kind: "ok", reasoning: REASONING, reasoningField: "reasoning", spaced: true });
    const seen = await streamed({ model: "llama" }, "reasoning-openrouter-stream", "reasoning");
    expect(seen).toEqual({ text: DEFAULT_TEXT, reasoning: REASONING, order: ["reasoning", "content"] });
    const record = await proxy.recordOf("reasoning-openrouter-stream");
    expect(record.reasoning).toBe(REASONING);
    expect(record.responseText).toBe(DEFAULT_TEXT);
  });

  it("a stream without usage: the estimated completion tokens count the reasoning too", async () => {
    openai.enqueue({ kind: "ok", reasoning: REASONING, llamaServer2026: true });
    const seen = await streamed({ model: "llama-no-usage" }, "reasoning-llama-no-usage");
    expect(seen.reasoning).toBe(REASONING);
    const record = await proxy.recordOf("reasoning-llama-no-usage");
    expect(record.reasoning).toBe(REASONING);
    expect(record.usage?.estimated).toBe(true);
    expect(record.usage?.output).toBe(countTextTokens(REASONING) + countTextTokens(DEFAULT_TEXT));
  });

  it("prices DeepSeek's cache hits at the catalog's cache-hit price", async () => {
    const usage = {
      prompt_tokens: 1000,
      completion_tokens: 200,
      total_tokens: 1200,
      prompt_tokens_details: { cached_tokens: 800 },
      prompt_cache_hit_tokens: 800,
      prompt_cache_miss_tokens: 200,
      completion_tokens_details: { reasoning_tokens: 150 },
    };
    openai.enqueue({ kind: "ok", reasoning: REASONING, usage });
    const message = await completed({ model: "deepseek/deepseek-reasoner" }, "reasoning-deepseek");
    expect(message.reasoning_content).toBe(REASONING);

    const record = await proxy.recordOf("reasoning-deepseek");
    expect(record.deployment).toBe("deepseek/*");
    expect(record.upstreamModel).toBe("deepseek-reasoner");
    expect(record.usage?.details).toEqual({
      prompt_tokens_details: { cached_tokens: 800 },
      prompt_cache_hit_tokens: 800,
      prompt_cache_miss_tokens: 200,
      completion_tokens_details: { reasoning_tokens: 150 },
    });
    // deepseek-reasoner at $0.28 (miss), $0.028 (hit), $0.42 (output) per million:
    // (200 × 0.28 + 800 × 0.028 + 200 × 0.42) / 1e6 = (56 + 22.4 + 84) / 1e6 = $0.0001624
    expect(record.costUsd).toBeCloseTo(0.0001624, 12);
    expect(fileRow("reasoning-deepseek").cost_usd).toBeCloseTo(0.0001624, 12);
  });
});

describe("Ollama (/api/chat), translated", () => {
  it("streamed: the thinking lines become reasoning_content deltas before the answer", async () => {
    ollama.behave({ kind: "ok", text: OLLAMA_ANSWER, thinking: OLLAMA_THINKING });
    const seen = await streamed({ model: "ollama", think: true }, "reasoning-ollama-stream");
    expect(seen).toEqual({ text: OLLAMA_ANSWER, reasoning: OLLAMA_THINKING, order: ["reasoning", "content"] });
    expect(ollama.requestsTo("/api/chat").at(-1)!.body.think).toBe(true);

    const record = await proxy.recordOf("reasoning-ollama-stream");
    expect(record.reasoning).toBe(OLLAMA_THINKING);
    expect(record.responseText).toBe(OLLAMA_ANSWER);
    expect(record.costUsd).toBe(0);
    expect(fileRow("reasoning-ollama-stream").message.reasoning_content).toBe(OLLAMA_THINKING);
  });

  it("not streamed: message.thinking becomes the message's reasoning_content", async () => {
    ollama.behave({ kind: "ok", text: OLLAMA_ANSWER, thinking: OLLAMA_THINKING });
    const message = await completed({ model: "ollama", think: true }, "reasoning-ollama-whole");
    expect(message).toMatchObject({ content: OLLAMA_ANSWER, reasoning_content: OLLAMA_THINKING });
    const record = await proxy.recordOf("reasoning-ollama-whole");
    expect(record.reasoning).toBe(OLLAMA_THINKING);
    expect(fileRow("reasoning-ollama-whole").message.reasoning_content).toBe(OLLAMA_THINKING);
  });

  it("an answer without thinking has no reasoning, for the client or the record", async () => {
    ollama.behave({ kind: "ok", text: OLLAMA_ANSWER });
    const message = await completed({ model: "ollama" }, "reasoning-ollama-none");
    expect(message).not.toHaveProperty("reasoning_content");
    expect((await proxy.recordOf("reasoning-ollama-none")).reasoning).toBeNull();
  });
});

describe("Anthropic, translated", () => {
  // Anthropic's usage: 20 uncached input tokens, 1,000 written to the cache, 3,000 read from it, 120 output.
  // llm-anthropic's token_details: Anthropic's usage without input_tokens and output_tokens, as it came.
  const details = {
    cache_creation_input_tokens: 1000,
    cache_read_input_tokens: 3000,
    cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 0 },
    service_tier: "standard",
  };
  // claude-sonnet-4 at $3 input, $0.30 cache reads, $3.75 cache writes, $15 output per million:
  // (20 × 3 + 3,000 × 0.30 + 1,000 × 3.75 + 120 × 15) / 1e6 = (60 + 900 + 3,750 + 1,800) / 1e6 = $0.00651
  const cost = 0.00651;
  const thinking = { type: "enabled", budget_tokens: 1024 };

  it("streamed: thinking_delta events become reasoning_content deltas; the cache counts are priced apart", async () => {
    anthropic.queue({ kind: "replay", fixture: "thinking" });
    const seen = await streamed({ model: "claude", thinking }, "reasoning-claude-stream");
    expect(seen).toEqual({ text: ANTHROPIC_ANSWER, reasoning: ANTHROPIC_THINKING, order: ["reasoning", "content"] });
    const sent = anthropic.requests.at(-1)!;
    expect(sent.rejected).toBeNull();
    expect(sent.body.thinking).toEqual(thinking);

    const record = await proxy.recordOf("reasoning-claude-stream");
    expect(record.reasoning).toBe(ANTHROPIC_THINKING);
    expect(record.responseText).toBe(ANTHROPIC_ANSWER);
    expect(record.usage).toEqual({ input: 4020, output: 120, estimated: false, details });
    expect(record.costUsd).toBeCloseTo(cost, 12);
    const file = fileRow("reasoning-claude-stream");
    expect(file.message.reasoning_content).toBe(ANTHROPIC_THINKING);
    expect(file.cost_usd).toBeCloseTo(cost, 12);
  });

  it("not streamed: thinking blocks become the message's reasoning_content, and usage keeps OpenAI's cached_tokens for the client", async () => {
    anthropic.queue({ kind: "replay", fixture: "thinking" });
    const completion = await client.chat.completions.create(
      { model: "claude", messages: [question], thinking } as OpenAI.ChatCompletionCreateParamsNonStreaming,
      {
        headers: { "x-request-id": "reasoning-claude-whole" },
      },
    );
    expect(completion.choices[0]!.message).toMatchObject({
      content: ANTHROPIC_ANSWER,
      reasoning_content: ANTHROPIC_THINKING,
    });
    expect(completion.usage).toMatchObject({
      prompt_tokens: 4020,
      completion_tokens: 120,
      prompt_tokens_details: { cached_tokens: 3000 },
    });

    const record = await proxy.recordOf("reasoning-claude-whole");
    expect(record.reasoning).toBe(ANTHROPIC_THINKING);
    expect(record.usage).toEqual({ input: 4020, output: 120, estimated: false, details });
    expect(record.costUsd).toBeCloseTo(cost, 12);
    expect(fileRow("reasoning-claude-whole").message.reasoning_content).toBe(ANTHROPIC_THINKING);
  });

  it("an earlier answer's reasoning_content sent back in the history is not turned into an (unsigned) thinking block", async () => {
    anthropic.queue({ kind: "replay", fixture: "text" });
    const history = [
      question,
      { role: "assistant", content: ANTHROPIC_ANSWER, reasoning_content: ANTHROPIC_THINKING },
      { role: "user", content: "And 28 * 453?" },
    ];
    const message = await completed({ model: "claude", messages: history }, "reasoning-claude-history");
    expect(message.content).toBeTruthy();
    const sent = anthropic.requests.at(-1)!;
    expect(sent.rejected).toBeNull();
    expect((sent.body.messages as { role: string; content: { type: string }[] }[])[1]).toEqual({
      role: "assistant",
      content: [{ type: "text", text: ANTHROPIC_ANSWER }],
    });
  });

  it("an answer without thinking or cache use has neither reasoning nor token_details", async () => {
    anthropic.queue({ kind: "replay", fixture: "text" });
    const message = await completed({ model: "claude" }, "reasoning-claude-plain");
    expect(message).not.toHaveProperty("reasoning_content");
    const record = await proxy.recordOf("reasoning-claude-plain");
    expect(record.reasoning).toBeNull();
    // The text fixture's usage has cache counts of 0: no token_details, as llm-anthropic stores none without caching.
    expect(record.usage).toEqual({ input: 12, output: 30, estimated: false });
  });
});
