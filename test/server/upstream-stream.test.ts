/**
 * Streaming and non-streaming through the proxy to an OpenAI-compatible
 * upstream (a loopback fake speaking llama-server's captured chunk
 * shapes): events forwarded unchanged, usage requested upstream and
 * forwarded only when the client asked, unknown fields kept both ways,
 * client aborts and upstream resets recorded with the partial answer.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { DEFAULT_TEXT, startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { readSse } from "../helpers/sse.js";
import { until } from "../helpers/until.js";

let fake: FakeUpstream;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeUpstream();
  proxy = await startTestProxy({ models: { local: fakeDeployment(fake.baseUrl, { model: "stories260K" }) } });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});
beforeEach(() => fake.behave({ kind: "ok" }));

const messages = [
  { role: "system" as const, content: "You tell short stories." },
  { role: "user" as const, content: "Once upon a time" },
];

async function exchangeRow(requestId: string): Promise<Record<string, unknown>> {
  await proxy.server.ctx.recorder.flush();
  const [row] = rows<Record<string, unknown>>(
    proxy.dbPath,
    "select r.*, x.* from responses r join llm_relay_exchanges x on x.response_id = r.id where x.request_id = ?",
    requestId,
  );
  expect(row, `no record for ${requestId}`).toBeDefined();
  return row!;
}

describe("openai-compatible upstream", () => {
  it("streams through the openai SDK; usage is requested upstream but not forwarded unasked", async () => {
    const stream = await client.chat.completions.create(
      { model: "local", messages, stream: true },
      { headers: { "x-request-id": "req-stream-1" } },
    );
    let text = "";
    let usageSeen = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.choices.length === 0) usageSeen = true;
    }
    expect(text).toBe(DEFAULT_TEXT);
    expect(usageSeen).toBe(false);
    const sent = fake.requests.at(-1)!;
    expect(sent.body.model).toBe("stories260K");
    expect(sent.body.stream_options).toEqual({ include_usage: true });
    const row = await exchangeRow("req-stream-1");
    expect(row).toMatchObject({
      model: "local",
      response: DEFAULT_TEXT,
      input_tokens: 46,
      output_tokens: 12,
      status: "ok",
      usage_estimated: 0,
      upstream_model: "stories260K",
      resolved_model: "stories260K",
    });
  });

  it("forwards the usage chunk when the client asked for it", async () => {
    const stream = await client.chat.completions.create({
      model: "local",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).toEqual({ completion_tokens: 12, prompt_tokens: 46, total_tokens: 58 });
  });

  it("forwards each upstream event unchanged, with the SSE headers, ending with [DONE]", async () => {
    const response = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "local", messages, stream: true }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await readSse(response);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Record<string, unknown>);
    expect(chunks.every((c) => c.system_fingerprint === "b0-unknown")).toBe(true);
    expect(chunks.at(-1)).toHaveProperty("timings");
  });

  it("passes unknown fields through in both directions, non-streaming", async () => {
    const response = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "local", messages, mirostat: 2, seed: 42 }),
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.x_unknown_upstream_field).toBe("kept");
    expect(body.timings).toEqual({ prompt_n: 46, predicted_n: 12 });
    const sent = fake.requests.at(-1)!;
    expect(sent.body).toMatchObject({ mirostat: 2, seed: 42, model: "stories260K" });
    expect(sent.body.stream_options).toBeUndefined();
  });

  it("a client abort mid-stream reaches the upstream and records the partial answer as cancelled", async () => {
    fake.behave({ kind: "ok", chunkCount: 40, chunkDelayMs: 50, text: "word ".repeat(40) });
    const abortsBefore = fake.requests.filter((r) => r.aborted).length;
    const controller = new AbortController();
    const response = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-abort-1" },
      body: JSON.stringify({ model: "local", messages, stream: true }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = "";
    while ((received.match(/data: /g) ?? []).length < 3) {
      const piece = (await reader.read()) as { done: boolean; value?: Uint8Array };
      if (piece.done) throw new Error(`the stream ended before its third event: ${received}`);
      received += decoder.decode(piece.value, { stream: true });
    }
    controller.abort();
    await fake.waitForAborts(abortsBefore + 1);
    const upstream = fake.requests.at(-1)!;
    expect(upstream.chunksSent).toBeLessThan(40);
    const row = await waitForRow("req-abort-1");
    expect(row.status).toBe("cancelled");
    expect(String(row.response)).toMatch(/^(word )+/);
    expect(String(row.response).length).toBeLessThan("word ".repeat(40).length);
  });

  it("an upstream reset after 3 chunks: the client gets 3 chunks and an in-band error without [DONE]; recorded as truncated", async () => {
    fake.behave({ kind: "reset-after", chunks: 3, text: "aaaa bbbb cccc dddd eeee ffff" });
    const response = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-reset-1" },
      body: JSON.stringify({ model: "local", messages, stream: true }),
    });
    expect(response.status).toBe(200);
    const events = await readSse(response);
    expect(events).toHaveLength(4);
    expect(events).not.toContain("[DONE]");
    const contents = events
      .slice(0, 3)
      .map((e) => (JSON.parse(e) as { choices: { delta: { content: string } }[] }).choices[0]!.delta.content);
    const error = JSON.parse(events[3]!) as { error: { message: string; type: string } };
    expect(error.error.message).toMatch(/unreachable|closed|ended/i);
    const row = await exchangeRow("req-reset-1");
    expect(row.status).toBe("truncated");
    expect(row.response).toBe(contents.join(""));
    expect(String(row.error)).not.toBe("");
  });
});

/** Waits (bounded) for the record of an exchange that ends asynchronously after a client abort. */
async function waitForRow(requestId: string): Promise<Record<string, unknown>> {
  let found: Record<string, unknown> | undefined;
  await until(`the record of ${requestId}`, async () => {
    await proxy.server.ctx.recorder.flush();
    found = rows<Record<string, unknown>>(
      proxy.dbPath,
      "select r.*, x.* from responses r join llm_relay_exchanges x on x.response_id = r.id where x.request_id = ?",
      requestId,
    )[0];
    return found !== undefined;
  });
  return found!;
}
