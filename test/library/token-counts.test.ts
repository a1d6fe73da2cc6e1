/**
 * An in-process call's LLMResponse carries the token counts of its record
 * in logs.db (`responses.input_tokens`, `responses.output_tokens`,
 * `llm_relay_exchanges.usage_estimated`), whatever the outcome: complete,
 * left with `break`, broken off by the upstream, failed; streamed or not;
 * with the upstream's usage or without any (then estimated, and flagged so
 * on both sides). Real HTTP fakes on 127.0.0.1, a real SQLite file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type LLMClient, type LLMResponse } from "../../src/index.js";
import { rows } from "../helpers/db.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment } from "../helpers/proxy.js";
import { startFakeCandidate, type FakeCandidate } from "../bench-replay/helpers/fake-candidate.js";
import { libraryConfig, settled, tempDb } from "./library-helpers.js";
import { drain } from "../helpers/drain.js";

const ANSWER = "The quick brown fox jumps over the lazy dog, and then it runs far away into the woods.";

let db: ReturnType<typeof tempDb>;
/** Answers in 8 chunks, 30 ms apart, and reports no usage at all. */
let silent: FakeCandidate;
/** Answers in 8 chunks and reports usage (46 prompt, 12 completion tokens). */
let reporting: FakeUpstream;
let client: LLMClient;

beforeAll(async () => {
  db = tempDb();
  silent = await startFakeCandidate({
    firstChunkDelayMs: 0,
    chunkDelayMs: 30,
    chunkCount: 8,
    usage: null,
    answer: () => ANSWER,
  });
  reporting = await startFakeUpstream({ kind: "ok", text: ANSWER, chunkCount: 8 });
  client = createClient({
    config: libraryConfig(db.dbPath, {
      silent: fakeDeployment(silent.baseUrl),
      reporting: fakeDeployment(reporting.baseUrl),
    }),
  });
});

afterAll(async () => {
  await client?.close();
  await silent?.close();
  await reporting?.close();
  db?.remove();
});

interface RecordedCounts {
  input_tokens: number | null;
  output_tokens: number | null;
  usage_estimated: number | null;
  status: string;
}

function recordOf(response: LLMResponse): RecordedCounts {
  expect(response.id).not.toBe("");
  const row = rows<RecordedCounts>(
    db.dbPath,
    "select r.input_tokens, r.output_tokens, x.usage_estimated, x.status from responses r join llm_relay_exchanges x on x.response_id = r.id where r.id = ?",
    response.id,
  )[0];
  expect(row, `a record for ${response.id}`).toBeDefined();
  return row!;
}

/** The response's counts and flag are the record's. */
function expectSameAsRecord(response: LLMResponse): RecordedCounts {
  const record = recordOf(response);
  expect({
    inputTokens: response.inputTokens,
    outputTokens: response.outputTokens,
    usageEstimated: response.usageEstimated,
  }).toEqual({
    inputTokens: record.input_tokens ?? 0,
    outputTokens: record.output_tokens ?? 0,
    usageEstimated: record.usage_estimated === 1,
  });
  expect(response.tokensUsed).toBe(response.inputTokens + response.outputTokens);
  return record;
}

const messages = [
  { role: "system" as const, content: "You are a storyteller." },
  { role: "user" as const, content: "Tell me about a fox in one sentence." },
];

describe("LLMResponse token counts are the record's", () => {
  it("a stream left with break: the estimated counts of the text received, flagged, not 0", async () => {
    const stream = client.streamCompletion(messages, { model: "silent" });
    let received = "";
    for await (const delta of stream) {
      received += delta;
      if (received.length >= 20) break;
    }
    const response = await settled(stream.response);
    expect(response.success).toBe(false);
    expect(response.content).toBe(received);
    const record = expectSameAsRecord(response);
    expect(record.status).toBe("cancelled");
    expect(response.usageEstimated).toBe(true);
    expect(response.inputTokens).toBeGreaterThan(0);
    expect(response.outputTokens).toBeGreaterThan(0);
  });

  it("a complete stream and a complete answer without usage: estimated, flagged", async () => {
    const stream = client.streamCompletion(messages, { model: "silent" });
    await drain(stream);
    const streamed = await settled(stream.response);
    expect(streamed.success).toBe(true);
    expect(expectSameAsRecord(streamed).status).toBe("ok");
    expect(streamed.usageEstimated).toBe(true);
    expect(streamed.outputTokens).toBeGreaterThan(0);

    const whole = await settled(client.generateCompletionWithMessages(messages, { model: "silent" }));
    expect(whole.success).toBe(true);
    expectSameAsRecord(whole);
    expect(whole.usageEstimated).toBe(true);
    expect([whole.inputTokens, whole.outputTokens]).toEqual([streamed.inputTokens, streamed.outputTokens]);
  });

  it("answers with the upstream's usage: those counts, not flagged", async () => {
    reporting.behave({ kind: "ok", text: ANSWER, chunkCount: 8 });
    const stream = client.streamCompletion(messages, { model: "reporting" });
    await drain(stream);
    const streamed = await settled(stream.response);
    const whole = await settled(client.generateCompletionWithMessages(messages, { model: "reporting" }));
    for (const response of [streamed, whole]) {
      expect(response.success).toBe(true);
      expectSameAsRecord(response);
      expect([response.inputTokens, response.outputTokens, response.usageEstimated]).toEqual([46, 12, false]);
    }
  });

  it("a stream the upstream broke off, and calls the upstream refused: the record's counts", async () => {
    reporting.behave({ kind: "reset-after", chunks: 3, text: ANSWER });
    const stream = client.streamCompletion(messages, { model: "reporting" });
    await drain(stream);
    const broken = await settled(stream.response);
    expect(broken.success).toBe(false);
    expect(broken.content.length).toBeGreaterThan(0);
    expect(expectSameAsRecord(broken).status).toBe("truncated");
    expect(broken.usageEstimated).toBe(true);
    expect(broken.outputTokens).toBeGreaterThan(0);

    reporting.behave({
      kind: "status",
      status: 500,
      body: '{"error":{"code":500,"message":"boom","type":"server_error"}}',
    });
    const refusedStream = client.streamCompletion(messages, { model: "reporting" });
    await drain(refusedStream);
    const refused = [
      await settled(refusedStream.response),
      await settled(client.generateCompletionWithMessages(messages, { model: "reporting" })),
    ];
    for (const response of refused) {
      expect(response.success).toBe(false);
      expect(response.error).toMatch(/^HTTP 500/);
      expect(expectSameAsRecord(response).status).toBe("error");
      expect(response.outputTokens).toBe(0);
    }
  });
});
