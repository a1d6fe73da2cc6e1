/**
 * assembleExchange fills ExchangeRecord.reasoning and TokenUsage.details
 * from every form of upstream output: a `chat.completion` body (as text or
 * as the object a translating provider built), pass-through SSE text
 * (llama-server's 2026-09 compact JSON and Python's spaced JSON) and chunk
 * events. Reasoning is `reasoning_content` (llama-server, DeepSeek, vLLM)
 * or `reasoning` (OpenRouter), concatenated in order, never both at once;
 * details are llm's `token_details`: the usage without the three counts,
 * zeros and empty objects removed as llm's `simplify_usage_dict` does, and
 * for Anthropic the fields the llm-anthropic plugin stores.
 */
import { describe, expect, it } from "vitest";
import type { ChatCompletionChunk } from "../../src/protocol/chat-completion.js";
import { ContentChunkDecoder } from "../../src/protocol/content-chunk-decoder.js";
import { StreamAccumulator } from "../../src/protocol/stream-accumulator.js";
import { assembleExchange } from "../../src/recording/assemble.js";
import { simplifyUsageDict, tokenDetails } from "../../src/recording/token-details.js";
import type { PendingExchange, RawOutput } from "../../src/recording/types.js";
import { pythonJson } from "../helpers/python-json.js";

const CREATED = 1796469280;
const ID = "chatcmpl-bjIdsUQMNouT1u7H8jH7OmyCIAvQMXbQ";
const MODEL = "stories260K.gguf";

function pending(output: RawOutput, provider = "openai-compatible"): PendingExchange {
  return {
    id: "01jaaaaaaaaaaaaaaaaaaaaaaa",
    requestId: "req-reasoning",
    startedAt: Date.UTC(2026, 11, 5, 12),
    durationMs: 10,
    ttftMs: 1,
    requestedModel: "m",
    provider,
    deployment: "d",
    upstreamModel: "m",
    requestBody: {
      model: "m",
      messages: [{ role: "user", content: "What is 27 * 453?" }],
      stream: output.kind !== "completion",
    },
    messages: [{ role: "user", content: "What is 27 * 453?" }],
    stream: output.kind !== "completion",
    httpStatus: 200,
    status: "ok",
    error: null,
    output,
    errorJson: null,
    errorClass: null,
  };
}

/** A llama-server 2026-09 chunk (key order of ../shared/fixtures/protocols/llama-server-2026-09.txt). */
function chunk(delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> {
  return {
    choices: [{ finish_reason: finish, index: 0, delta }],
    created: CREATED,
    id: ID,
    model: MODEL,
    system_fingerprint: "b0-unknown",
    object: "chat.completion.chunk",
  };
}

/** The captured 2026-09 usage chunk: usage with prompt_tokens_details, and timings beside it. */
const USAGE_CHUNK = {
  choices: [],
  created: CREATED,
  id: ID,
  model: MODEL,
  system_fingerprint: "b0-unknown",
  object: "chat.completion.chunk",
  usage: { completion_tokens: 4, prompt_tokens: 46, total_tokens: 50, prompt_tokens_details: { cached_tokens: 45 } },
  timings: { cache_n: 45, prompt_n: 1, prompt_ms: 0.444, predicted_n: 4, predicted_ms: 2.151 },
};

/** A reasoning stream as llama-server 2026-09 sends it: role chunk with `content: null`, reasoning deltas, content deltas, finish, usage. */
function llamaStream(): Record<string, unknown>[] {
  return [
    chunk({ role: "assistant", content: null }),
    chunk({ reasoning_content: "27 * 453 = " }),
    chunk({ reasoning_content: "10800 + 1431" }),
    chunk({ reasoning_content: " = 12231." }),
    chunk({ content: "It is " }),
    chunk({ content: "12231" }),
    chunk({ content: "." }),
    chunk({}, "stop"),
    USAGE_CHUNK,
  ];
}

const sse = (payloads: string[]) => payloads.map((data) => `data: ${data}\n\n`);

describe("reasoning of a streamed answer", () => {
  it.each([
    ["compact JSON (llama-server)", (value: unknown) => JSON.stringify(value)],
    ["spaced JSON (Python's json.dumps)", pythonJson],
  ])("is the reasoning_content deltas in order, passed through as SSE text in %s", (_name, encode) => {
    const blocks = sse(llamaStream().map(encode));
    // Several events per block, as the server keeps them.
    const record = assembleExchange(
      pending({ kind: "sse", blocks: [blocks.slice(0, 3).join(""), ...blocks.slice(3)] }),
    );
    expect(record.status).toBe("ok");
    expect(record.reasoning).toBe("27 * 453 = 10800 + 1431 = 12231.");
    expect(record.responseText).toBe("It is 12231.");
    expect(record.finishReason).toBe("stop");
    expect(record.usage).toEqual({
      input: 46,
      output: 4,
      estimated: false,
      details: { prompt_tokens_details: { cached_tokens: 45 } },
    });
    const message = (record.responseJson as { choices: { message: Record<string, unknown> }[] }).choices[0]!.message;
    expect(message).toEqual({
      role: "assistant",
      content: "It is 12231.",
      reasoning_content: "27 * 453 = 10800 + 1431 = 12231.",
    });
  });

  it("reads OpenRouter's `reasoning` deltas, and never doubles a delta that carries both fields (newer vLLM)", () => {
    const openRouter = [
      chunk({ role: "assistant", content: "" }),
      chunk({ reasoning: "think " }),
      chunk({ reasoning: "more" }),
      chunk({ content: "done" }),
      chunk({}, "stop"),
    ];
    expect(
      assembleExchange(pending({ kind: "sse", blocks: sse(openRouter.map((c) => JSON.stringify(c))) })).reasoning,
    ).toBe("think more");
    const vllm = [
      chunk({ role: "assistant", content: "" }),
      chunk({ reasoning_content: "a", reasoning: "a" }),
      chunk({ reasoning_content: "b", reasoning: "b" }),
      chunk({ content: "c" }),
    ];
    expect(assembleExchange(pending({ kind: "sse", blocks: sse(vllm.map((c) => JSON.stringify(c))) })).reasoning).toBe(
      "ab",
    );
  });

  it("is null when no delta carried reasoning (and `reasoning_content: null` / empty strings are none)", () => {
    const events = [
      chunk({ role: "assistant", content: null }),
      chunk({ content: "Hi", reasoning_content: null }),
      chunk({ reasoning_content: "" }),
      chunk({}, "stop"),
    ];
    const record = assembleExchange(pending({ kind: "sse", blocks: sse(events.map((c) => JSON.stringify(c))) }));
    expect(record.reasoning).toBeNull();
    expect(record.responseText).toBe("Hi");
    expect(
      (record.responseJson as { choices: { message: Record<string, unknown> }[] }).choices[0]!.message,
    ).not.toHaveProperty("reasoning_content");
  });

  it("keeps the reasoning that arrived before a stream was cut", () => {
    const events = llamaStream().slice(0, 3);
    const record = assembleExchange({
      ...pending({ kind: "sse", blocks: sse(events.map((c) => JSON.stringify(c))) }),
      status: "truncated",
      error: "cut",
    });
    expect(record.status).toBe("truncated");
    expect(record.reasoning).toBe("27 * 453 = 10800 + 1431");
    expect(record.responseText).toBe("");
  });

  it("is read from chunk events a translating provider built (objects and strings)", () => {
    const [role, r1, r2, r3, c1, c2, c3, finish, usage] = llamaStream();
    const events = [role, r1, JSON.stringify(r2), r3, c1, JSON.stringify(c2), c3, finish, usage] as NonNullable<
      Extract<RawOutput, { kind: "stream" }>["events"]
    >;
    const record = assembleExchange(pending({ kind: "stream", events: [...events] }, "ollama"));
    expect(record.reasoning).toBe("27 * 453 = 10800 + 1431 = 12231.");
    expect(record.responseText).toBe("It is 12231.");
  });
});

describe("reading reasoning deltas by their learned shape", () => {
  const reasoningDelta = (text: string) => JSON.stringify(chunk({ reasoning_content: text }));

  it("learns the reasoning shape apart from the content shape, and reads both without a full parse", () => {
    const decoder = new ContentChunkDecoder();
    const learn = (event: string) => decoder.learn(event, JSON.parse(event) as ChatCompletionChunk);
    learn(JSON.stringify(chunk({ role: "assistant", content: null })));
    learn(reasoningDelta("first"));
    expect(decoder.decode(reasoningDelta('then "quoted"\n'))).toEqual({ kind: "reasoning", text: 'then "quoted"\n' });
    expect(decoder.decode(JSON.stringify(chunk({ content: "answer" })))).toBeUndefined(); // no content shape yet
    learn(JSON.stringify(chunk({ content: "answer" })));
    expect(decoder.decode(JSON.stringify(chunk({ content: "more" })))).toEqual({ kind: "content", text: "more" });
    expect(decoder.content(reasoningDelta("r"))).toBeUndefined();
    // A delta carrying both fields (newer vLLM) or a finish is never read by shape.
    expect(decoder.decode(JSON.stringify(chunk({ reasoning_content: "x", reasoning: "x" })))).toBeUndefined();
    expect(decoder.decode(JSON.stringify(chunk({ reasoning_content: "x" }, "stop")))).toBeUndefined();
  });

  it("assembles what a full parse of every event gives", () => {
    const texts = ["plain ", "café 🐧 ", "\\ back", "\u2028", '"q"'];
    const events = [
      JSON.stringify(chunk({ role: "assistant", content: null })),
      ...texts.map(reasoningDelta),
      JSON.stringify({ ...chunk({ reasoning_content: " other model" }), model: "other" }),
      JSON.stringify(chunk({ content: "It is " })),
      reasoningDelta(" (late thought)"),
      JSON.stringify(chunk({ content: "12231." })),
      JSON.stringify(chunk({}, "stop")),
    ];
    const full = new StreamAccumulator();
    for (const event of events) full.add(JSON.parse(event) as ChatCompletionChunk);
    const record = assembleExchange(pending({ kind: "sse", blocks: sse(events) }));
    expect(record.reasoning).toBe(full.reasoning);
    expect(record.reasoning).toBe(`${texts.join("")} other model (late thought)`);
    expect(record.responseText).toBe(full.text);
    expect(record.resolvedModel).toBe(full.model);
  });
});

describe("reasoning of a non-streamed answer", () => {
  const body = (message: Record<string, unknown>, usage: Record<string, unknown>) => ({
    choices: [{ finish_reason: "stop", index: 0, message: { role: "assistant", content: "It is 12231.", ...message } }],
    created: CREATED,
    model: MODEL,
    system_fingerprint: "b0-unknown",
    object: "chat.completion",
    usage,
    id: ID,
    timings: { cache_n: 45, prompt_n: 1 },
  });
  const usage = {
    completion_tokens: 8,
    prompt_tokens: 46,
    total_tokens: 54,
    prompt_tokens_details: { cached_tokens: 45 },
  };

  it.each([
    ["reasoning_content, compact", JSON.stringify(body({ reasoning_content: "27 * 453 = 12231." }, usage))],
    ["reasoning_content, spaced", pythonJson(body({ reasoning_content: "27 * 453 = 12231." }, usage))],
    [
      "OpenRouter's reasoning",
      JSON.stringify(
        body(
          {
            reasoning: "27 * 453 = 12231.",
            reasoning_details: [{ type: "reasoning.text", text: "27 * 453 = 12231." }],
          },
          usage,
        ),
      ),
    ],
  ])("is the message's %s", (_name, text) => {
    const record = assembleExchange(pending({ kind: "completion", body: text }));
    expect(record.reasoning).toBe("27 * 453 = 12231.");
    expect(record.responseText).toBe("It is 12231.");
    expect(record.usage).toEqual({
      input: 46,
      output: 8,
      estimated: false,
      details: { prompt_tokens_details: { cached_tokens: 45 } },
    });
  });

  it("is null for a message without reasoning", () => {
    expect(
      assembleExchange(pending({ kind: "completion", body: JSON.stringify(body({}, usage)) })).reasoning,
    ).toBeNull();
  });
});

describe("token_details", () => {
  it("is OpenAI's usage without the counts, zeros and emptied objects removed, as llm stores it", () => {
    const usage = {
      prompt_tokens: 1200,
      completion_tokens: 400,
      total_tokens: 1600,
      prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 256,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    };
    expect(tokenDetails(usage, "openai-compatible")).toEqual({
      prompt_tokens_details: { cached_tokens: 1024 },
      completion_tokens_details: { reasoning_tokens: 256 },
    });
    const zeros = {
      ...usage,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    };
    expect(tokenDetails(zeros, "openai-compatible")).toBeNull();
  });

  it("keeps other fields of usage (DeepSeek's cache counts, OpenRouter's cost) and nothing beside it", () => {
    const deepseek = {
      prompt_tokens: 1000,
      completion_tokens: 200,
      total_tokens: 1200,
      prompt_tokens_details: { cached_tokens: 800 },
      prompt_cache_hit_tokens: 800,
      prompt_cache_miss_tokens: 200,
    };
    expect(tokenDetails(deepseek, "openai-compatible")).toEqual({
      prompt_tokens_details: { cached_tokens: 800 },
      prompt_cache_hit_tokens: 800,
      prompt_cache_miss_tokens: 200,
    });
    expect(
      tokenDetails(
        { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7, cost: 0.00012, is_byok: false },
        "openai-compatible",
      ),
    ).toEqual({ cost: 0.00012 });
  });

  it("for Anthropic is the llm-anthropic plugin's fields as they came, without our prompt_tokens_details mirror, when the cache was used", () => {
    const usage = {
      prompt_tokens: 4020,
      completion_tokens: 120,
      total_tokens: 4140,
      prompt_tokens_details: { cached_tokens: 3000 },
      cache_creation_input_tokens: 1000,
      cache_read_input_tokens: 3000,
      cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 0 },
      service_tier: "standard",
    };
    expect(tokenDetails(usage, "anthropic")).toEqual({
      cache_creation_input_tokens: 1000,
      cache_read_input_tokens: 3000,
      cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 0 },
      service_tier: "standard",
    });
    // Only a read, or only server tool use, is enough; zeros everywhere is none (llm-anthropic without its cache option).
    const readOnly = {
      ...usage,
      cache_creation_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    };
    expect(tokenDetails(readOnly, "anthropic")).toMatchObject({
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 3000,
    });
    const plain = {
      prompt_tokens: 12,
      completion_tokens: 30,
      total_tokens: 42,
      prompt_tokens_details: { cached_tokens: 0 },
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      service_tier: "standard",
    };
    expect(tokenDetails(plain, "anthropic")).toBeNull();
    expect(tokenDetails({ ...plain, server_tool_use: { web_search_requests: 1 } }, "anthropic")).toEqual({
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      service_tier: "standard",
      server_tool_use: { web_search_requests: 1 },
    });
  });

  it("is left out of the record's usage when nothing remains", () => {
    const events = [
      chunk({ content: "Hi" }),
      {
        ...USAGE_CHUNK,
        usage: { completion_tokens: 1, prompt_tokens: 3, total_tokens: 4, prompt_tokens_details: { cached_tokens: 0 } },
      },
    ];
    expect(assembleExchange(pending({ kind: "sse", blocks: sse(events.map((c) => JSON.stringify(c))) })).usage).toEqual(
      { input: 3, output: 1, estimated: false },
    );
  });

  it("simplifies as Python's simplify_usage_dict: 0, 0.0, false, null and {} go, strings, true and lists stay", () => {
    expect(
      simplifyUsageDict({
        a: 0,
        b: -0,
        c: false,
        d: null,
        e: {},
        f: { g: { h: 0 } },
        i: "",
        j: true,
        k: [],
        l: [0],
        m: 1.5,
        n: { o: 2, p: 0 },
      }),
    ).toEqual({
      i: "",
      j: true,
      k: [],
      l: [0],
      m: 1.5,
      n: { o: 2 },
    });
  });
});
