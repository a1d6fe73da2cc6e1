/**
 * The four timeouts of a deployment, each on its own: first token (no
 * response headers in time → 504 before any byte, so it is retried when
 * the model has retries), idle (a stream that goes quiet between chunks →
 * in-band 504 after the chunks already sent), and total (the whole call,
 * even while chunks keep coming → 504). `timeout_ms` is the default of the
 * first two; the error message names the limit that was hit.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { chat, chatBody, openAIError, recordedExchange } from "../helpers/exchanges.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { readSse } from "../helpers/sse.js";
import { recordedAttempts } from "./resilience-helpers.js";

let fake: FakeUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  fake = await startFakeUpstream();
  proxy = await startTestProxy({
    models: {
      "first-token": fakeDeployment(fake.baseUrl, { timeout_ms: 10_000, first_token_timeout_ms: 250 }),
      idle: fakeDeployment(fake.baseUrl, { timeout_ms: 10_000, idle_timeout_ms: 250 }),
      total: fakeDeployment(fake.baseUrl, { timeout_ms: 10_000, total_timeout_ms: 400 }),
    },
    defaultModel: null,
  });
});
afterAll(async () => {
  await proxy?.close();
  await fake?.close();
});
beforeEach(() => fake.behave({ kind: "ok" }));

/** A streamed request read to the end: status and `data:` payloads. */
async function streamed(model: string, requestId: string) {
  const response = await fetch(`${proxy.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": requestId },
    body: JSON.stringify(chatBody(model, { stream: true })),
  });
  return { status: response.status, events: await readSse(response) };
}

describe("per-deployment timeouts", () => {
  it("first_token_timeout_ms: no headers in time is a 504 upstream_timeout naming the limit (not timeout_ms)", async () => {
    fake.behave({ kind: "ok", headerDelayMs: 1_000 });
    const answer = await chat(proxy, chatBody("first-token"), { "x-request-id": "ft" });

    expect(answer.status).toBe(504);
    const error = openAIError(answer);
    expect(error.code).toBe("upstream_timeout");
    expect(error.message).toContain("250 ms");
    expect(await recordedAttempts(proxy, "ft")).toMatchObject([{ status: "timeout", http_status: null }]);
  });

  it("idle_timeout_ms: a stream quiet for longer ends with the in-band 504 after the chunks sent", async () => {
    fake.behave({ kind: "ok", chunkDelayMs: 1_000, chunkCount: 4 });
    const { status, events } = await streamed("idle", "idle");

    expect(status).toBe(200);
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[0]!)).toMatchObject({ object: "chat.completion.chunk" });
    const error = JSON.parse(events[1]!) as { error: { code: string; message: string } };
    expect(error.error.code).toBe("upstream_timeout");
    expect(error.error.message).toMatch(/250 ms \(idle timeout\)/);
    expect(await recordedExchange(proxy, "idle")).toMatchObject({ status: "truncated", http_status: 200 });
    expect(await recordedAttempts(proxy, "idle")).toMatchObject([{ status: "timeout", http_status: 200 }]);
  });

  it("total_timeout_ms: a stream still sending chunks is cut at the total limit", async () => {
    // 10 chunks 100 ms apart: never idle for long, but 1 s in all.
    fake.behave({ kind: "ok", chunkDelayMs: 100, chunkCount: 10 });
    const { status, events } = await streamed("total", "total-stream");

    expect(status).toBe(200);
    const last = JSON.parse(events.at(-1)!) as { error?: { code: string; message: string } };
    expect(last.error?.code).toBe("upstream_timeout");
    expect(last.error?.message).toContain("total timeout of 400 ms");
    expect(events.length).toBeGreaterThan(1);
    expect(events.length).toBeLessThan(11);
    expect(await recordedExchange(proxy, "total-stream")).toMatchObject({ status: "truncated" });
    expect(fake.requests.at(-1)!.aborted).toBe(true);
  });

  it("total_timeout_ms: a non-streamed answer that comes too late is a 504", async () => {
    fake.behave({ kind: "ok", headerDelayMs: 1_000 });
    const answer = await chat(proxy, chatBody("total"), { "x-request-id": "total-json" });

    expect(answer.status).toBe(504);
    const error = openAIError(answer);
    expect(error.code).toBe("upstream_timeout");
    expect(error.message).toContain("total timeout of 400 ms");
    expect(await recordedAttempts(proxy, "total-json")).toMatchObject([{ status: "timeout", http_status: null }]);
  });
});
