/**
 * The recorder reads content deltas of a stream by their learned shape
 * instead of parsing each event (ContentChunkDecoder). Whatever the
 * stream, the assembled record must equal what a full parse of every
 * event gives: captured llama-server events, escapes, tool calls,
 * chunks that vary in other fields, and broken events (the first one ends
 * what is read, and the exchange is recorded as an error naming it).
 */
import { describe, expect, it } from "vitest";
import type { ChatCompletionChunk } from "../../src/protocol/chat-completion.js";
import { ContentChunkDecoder } from "../../src/protocol/content-chunk-decoder.js";
import { StreamAccumulator } from "../../src/protocol/stream-accumulator.js";
import { assembleExchange } from "../../src/recording/assemble.js";
import type { PendingExchange } from "../../src/recording/types.js";
import { readCapture, section } from "../helpers/protocol-capture.js";

function pending(events: string[]): PendingExchange {
  return {
    id: "01jaaaaaaaaaaaaaaaaaaaaaaa",
    requestId: "req-1",
    startedAt: Date.now(),
    durationMs: 10,
    ttftMs: 1,
    requestedModel: "m",
    provider: "openai-compatible",
    deployment: "d",
    upstreamModel: "m",
    requestBody: { model: "m", messages: [{ role: "user", content: "hi" }], stream: true },
    messages: [{ role: "user", content: "hi" }],
    stream: true,
    httpStatus: 200,
    status: "ok",
    error: null,
    output: { kind: "stream", events },
    errorJson: null,
    errorClass: null,
  };
}

/** What the record holds when every event is parsed in full, up to the first that is not JSON. */
function fullParse(events: string[]) {
  const acc = new StreamAccumulator();
  for (const event of events) {
    let chunk: ChatCompletionChunk;
    try {
      chunk = JSON.parse(event) as ChatCompletionChunk;
    } catch {
      break; // the recorder stops at it too
    }
    if (chunk && typeof chunk === "object") acc.add(chunk);
  }
  return {
    text: acc.text,
    toolCalls: acc.calls,
    finishReason: acc.finishReason,
    resolvedModel: acc.model,
    responseJson: acc.toCompletion(),
  };
}

function expectSameAsFullParse(events: string[]): void {
  const record = assembleExchange(pending(events));
  const expected = fullParse(events);
  expect(record.responseText).toBe(expected.text);
  expect(record.toolCalls).toEqual(expected.toolCalls);
  expect(record.finishReason).toBe(expected.finishReason);
  expect(record.resolvedModel).toBe(expected.resolvedModel);
  expect(record.responseJson).toEqual(expected.responseJson);
}

const head =
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1795257782,"model":"gpt-x","system_fingerprint":"fp"';
const choice = (delta: string, finish = "null", index = 0): string =>
  `${head},"choices":[{"index":${index},"delta":${delta},"logprobs":null,"finish_reason":${finish}}]}`;
const content = (text: string): string => choice(`{"content":${JSON.stringify(text)}}`);

describe("assembling a streamed answer", () => {
  it("reads the captured llama-server stream as a full parse does", () => {
    const capture = readCapture("llama-server.txt");
    const lines = section(capture, "POST /v1/chat/completions stream=true (first").bodyLines;
    const events = lines.filter((l) => l.startsWith("data: {")).map((l) => l.slice("data: ".length).replace(/\r$/, ""));
    expect(events.length).toBeGreaterThan(4);
    const record = assembleExchange(pending(events));
    expect(record.responseText.startsWith('"Here')).toBe(true);
    expectSameAsFullParse(events);
  });

  it("decodes escapes, non-ASCII text and surrogate pairs in content deltas", () => {
    const texts = ["Hello", ', "quoted"', "\nnew line\t", "\\ backslash", "café 🐧", "\u2028", "</script>", "\u0001"];
    const events = [choice('{"role":"assistant","content":""}'), ...texts.map(content), choice("{}", '"stop"')];
    const record = assembleExchange(pending(events));
    expect(record.responseText).toBe(texts.join(""));
    expect(record.finishReason).toBe("stop");
    expectSameAsFullParse(events);
  });

  it("parses in full the chunks that differ from the learned shape in any other field", () => {
    const events = [
      content("one "),
      content("two "),
      // Another choice index: not ours.
      choice(`{"content":"other choice "}`, "null", 1),
      // A different created/model: the chunk's fields still count.
      content("three ")
        .replace('"created":1795257782', '"created":1795257790')
        .replace('"model":"gpt-x"', '"model":"gpt-y"'),
      // Content together with finish_reason.
      choice(`{"content":"four"}`, '"length"'),
      // A usage-only chunk.
      `${head},"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}}`,
    ];
    const record = assembleExchange(pending(events));
    expect(record.responseText).toBe("one two three four");
    expect(record.finishReason).toBe("length");
    expect(record.usage).toEqual({ input: 5, output: 4, estimated: false });
    expectSameAsFullParse(events);
  });

  it("keeps tool-call deltas between content deltas", () => {
    const call = (args: string, extra = ""): string =>
      choice(
        `{"tool_calls":[{"index":0,${extra}"function":{${extra ? '"name":"get_weather",' : ""}"arguments":${JSON.stringify(args)}}}]}`,
      );
    const events = [
      content("Let me check. "),
      call('{"city":', '"id":"call_1","type":"function",'),
      call('"Paris"}'),
      content("Done."),
      choice("{}", '"tool_calls"'),
    ];
    const record = assembleExchange(pending(events));
    expect(record.toolCalls).toEqual([{ id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' }]);
    expect(record.responseText).toBe("Let me check. Done.");
    expectSameAsFullParse(events);
  });

  it("stops at a broken event exactly where a full parse fails, and records the exchange as an error naming it", () => {
    const good = content("fine ");
    const broken = [
      good.replace('"fine "', '"bad \\x escape"'),
      good.replace('"fine "', '"raw\u0007control"'),
      good.slice(0, -3), // truncated mid-event
      `${good.slice(0, -2)},}`, // trailing comma after the same prefix and content
    ];
    for (const bad of broken) {
      // The decoder has learned the shape from the good events, so the broken one is offered to it first.
      const events = [good, good, bad, content("end")];
      const record = assembleExchange(pending(events));
      expect(record.responseText).toBe("fine fine ");
      expect(record.status).toBe("error");
      expect(record.error).toContain(bad.slice(0, 40));
      expectSameAsFullParse(events);
    }
  });

  it("does not learn a shape from a chunk whose content key is not the delta's", () => {
    // The content marker appears only inside another field: the chunk is parsed in full every time.
    const odd = (text: string): string =>
      `${head},"choices":[{"index":0,"delta":{"content":${JSON.stringify(text)},"refusal":null},"finish_reason":null}]}`;
    const events = [odd("a"), odd("b"), content("c"), content("d")];
    expectSameAsFullParse(events);
    expect(assembleExchange(pending(events)).responseText).toBe("abcd");
  });
});

describe("ContentChunkDecoder", () => {
  it("reads the content of an event of the learned shape without a full parse, and nothing else", () => {
    const decoder = new ContentChunkDecoder();
    expect(decoder.content(content("a"))).toBeUndefined(); // nothing learned yet
    decoder.learn(
      choice('{"role":"assistant","content":""}'),
      JSON.parse(choice('{"role":"assistant","content":""}')) as ChatCompletionChunk,
    );
    expect(decoder.content(content("a"))).toBeUndefined(); // a role chunk teaches nothing
    decoder.learn(content("first"), JSON.parse(content("first")) as ChatCompletionChunk);
    expect(decoder.content(content('next "one"\n'))).toBe('next "one"\n');
    expect(decoder.content(choice(`{"content":"x"}`, '"stop"'))).toBeUndefined();
    expect(decoder.content(choice(`{"content":"x"}`, "null", 1))).toBeUndefined();
    expect(decoder.content(`${content("x")} `)).toBeUndefined();
  });
});
