/**
 * The recorder's assembly of garbage from the upstream (issue 16, failure
 * 8), for every form of raw output: pass-through SSE blocks, chunk events
 * handed over as text (the library's in-process transport), and a
 * completion body. An invalid payload makes an `ok` exchange `error`,
 * naming it, with the text before it; a cancelled or truncated exchange
 * keeps its own status; assembly never throws (before, `{"choices":[null]}`
 * threw in the recorder's batch).
 */
import { describe, expect, it } from "vitest";
import { assembleExchange } from "../../src/recording/assemble.js";
import type { PendingExchange, RawOutput } from "../../src/recording/types.js";

function pending(
  output: RawOutput,
  status: PendingExchange["status"] = "ok",
  error: string | null = null,
): PendingExchange {
  return {
    id: "01jaaaaaaaaaaaaaaaaaaaaaaa",
    requestId: "req-garbage",
    startedAt: Date.now(),
    durationMs: 10,
    ttftMs: 1,
    requestedModel: "m",
    provider: "openai-compatible",
    deployment: "d",
    upstreamModel: "m",
    requestBody: { model: "m", messages: [{ role: "user", content: "hi" }], stream: output.kind !== "completion" },
    messages: [{ role: "user", content: "hi" }],
    stream: output.kind !== "completion",
    httpStatus: 200,
    status,
    error,
    output,
    errorJson: null,
    errorClass: null,
  };
}

const delta = (content: string) =>
  JSON.stringify({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  });
const finish = JSON.stringify({
  id: "c1",
  object: "chat.completion.chunk",
  created: 1,
  model: "m",
  choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
});

describe("a stream of chunk events handed over as text", () => {
  for (const bad of [
    "<html>proxy error</html>",
    '{"choices":[null]}',
    '{"choices":{"0":{}}}',
    "[]",
    '"text"',
    delta("cut").slice(0, 30),
  ]) {
    it(`with ${bad.slice(0, 24)} is recorded as an error naming it, with the text before it`, () => {
      const record = assembleExchange(
        pending({ kind: "stream", events: [delta("Hello "), delta("world"), bad, delta(" more"), finish] }),
      );
      expect(record.status).toBe("error");
      expect(record.error).toContain("not a chat.completion.chunk");
      expect(record.error).toContain(bad.slice(0, 20));
      expect(record.responseText).toBe("Hello world");
      expect(record.finishReason).toBeNull();
    });
  }

  it("of valid chunks, [DONE] and a usage-only chunk stays ok", () => {
    const usage = JSON.stringify({
      id: "c1",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
    const record = assembleExchange(pending({ kind: "stream", events: [delta("Hello"), finish, usage, "[DONE]"] }));
    expect(record).toMatchObject({
      status: "ok",
      error: null,
      responseText: "Hello",
      finishReason: "stop",
      usage: { input: 3, output: 2, estimated: false },
    });
  });

  it("that was truncated keeps its status and error (a cut stream may end mid-event)", () => {
    const record = assembleExchange(
      pending(
        { kind: "stream", events: [delta("Hello"), delta("cut").slice(0, 30)] },
        "truncated",
        "The upstream ended the stream",
      ),
    );
    expect(record).toMatchObject({
      status: "truncated",
      error: "The upstream ended the stream",
      responseText: "Hello",
    });
  });
});

describe("pass-through SSE blocks", () => {
  it("with an event that is not JSON are recorded as an error naming it, with the text before it", () => {
    const blocks = [
      `data: ${delta("Hi ")}\n\ndata: ${delta("there")}\n\n`,
      "data: upstream says: overloaded\n\n",
      `data: ${finish}\n\n`,
    ];
    const record = assembleExchange(pending({ kind: "sse", blocks }));
    expect(record.status).toBe("error");
    expect(record.error).toContain("(not JSON): upstream says: overloaded");
    expect(record.responseText).toBe("Hi there");
  });
});

describe("a completion body", () => {
  for (const body of ['{"choices":[null]}', "[]", "<html></html>", '{"id":"x","choices":[]}']) {
    it(`${body} is recorded as an error keeping the body, without throwing`, () => {
      const record = assembleExchange(pending({ kind: "completion", body }));
      expect(record.status).toBe("error");
      expect(record.error).toContain("not a chat.completion");
      expect(record.responseJson).toEqual({ upstream_body: body });
      expect(record.responseText).toBe("");
    });
  }
});
