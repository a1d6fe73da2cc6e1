/**
 * What the performance work must not change, and what it exposes: SSE
 * bytes reach the client exactly as the upstream sent them when no
 * transformation applies; non-streaming answers carry the proxy's own
 * time; `/metrics` is Prometheus text whose counters move with requests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { rows } from "../helpers/db.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { parsePrometheusText, sampleValue } from "../helpers/prometheus.js";

let fake: FakeUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  fake = await startFakeUpstream();
  proxy = await startTestProxy({ models: { up: fakeDeployment(fake.baseUrl) } });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});

const messages = [{ role: "user", content: "Tell me a story" }];

async function post(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${proxy.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

describe("pass-through", () => {
  it("delivers the upstream's SSE bytes unchanged, chunk for chunk, when the client asked for usage itself", async () => {
    fake.behave({
      kind: "ok",
      chunkCount: 20,
      text: "Once upon a time, a small fox found a very old map in the woods.",
    });
    const response = await post({ model: "up", messages, stream: true, stream_options: { include_usage: true } });
    const received = await response.text();
    const sent = fake.requests.at(-1)!.bodySent;
    expect(sent.split("\n\n").length).toBeGreaterThan(15);
    expect(received).toBe(sent);
  });

  it("only drops the usage-only chunk it asked for on the client's behalf", async () => {
    const response = await post({ model: "up", messages, stream: true });
    const received = await response.text();
    const sent = fake.requests.at(-1)!.bodySent;
    const usageEvent = sent.split("\n\n").find((event) => event.includes('"choices":[]'));
    expect(usageEvent).toBeDefined();
    expect(received).toBe(sent.replace(`${usageEvent}\n\n`, ""));
  });

  it("returns a non-streaming body byte for byte, with x-llm-relay-overhead-ms, and records overhead_ms", async () => {
    const response = await post({ model: "up", messages }, { "x-request-id": "req-overhead" });
    const text = await response.text();
    expect(text).toBe(fake.requests.at(-1)!.bodySent);
    const overhead = Number(response.headers.get("x-llm-relay-overhead-ms"));
    expect(Number.isFinite(overhead)).toBe(true);
    expect(overhead).toBeGreaterThan(0);
    await proxy.server.ctx.recorder.flush();
    const [row] = rows<{ overhead_ms: number; duration_ms: number }>(
      proxy.dbPath,
      "select x.overhead_ms, r.duration_ms from llm_relay_exchanges x join responses r on r.id = x.response_id where x.request_id = ?",
      "req-overhead",
    );
    expect(row!.overhead_ms).toBeGreaterThan(0);
    expect(row!.overhead_ms).toBeLessThanOrEqual(row!.duration_ms + 1);
  });
});

describe("GET /metrics", () => {
  async function scrape() {
    const response = await fetch(`${proxy.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await response.text());
  }

  it("parses as Prometheus text and its counters move with requests", async () => {
    fake.behave({ kind: "ok" });
    await proxy.server.ctx.recorder.flush();
    const before = await scrape();
    // The earlier tests of this file moved these counters too: each is checked by how much this test moves it.
    const moved = (after: ReturnType<typeof parsePrometheusText>, name: string, labels: Record<string, string>) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    const up = { model: "up", provider: "openai-compatible" };

    for (let i = 0; i < 3; i++) await (await post({ model: "up", messages, stream: i % 2 === 0 })).text();
    fake.behave({ kind: "status", status: 500, body: '{"error":{"message":"boom","type":"server_error"}}' });
    await (await post({ model: "up", messages })).text();
    await (await post({ model: "up" })).text(); // 400, no exchange
    await proxy.server.ctx.recorder.flush();

    const after = await scrape();
    expect(moved(after, "llm_relay_exchanges_total", { provider: "openai-compatible", outcome: "ok" })).toBe(3);
    expect(moved(after, "llm_relay_request_duration_seconds_count", up)).toBe(4);
    expect(
      moved(after, "llm_relay_upstream_errors_total", { provider: "openai-compatible", class: "upstream_http" }),
    ).toBe(1); // the 500 (no retries configured)
    expect(moved(after, "llm_relay_requests_total", { route: "/v1/chat/completions", status: "400" })).toBe(1);
    expect(moved(after, "llm_relay_requests_total", { route: "/v1/chat/completions", status: "200" })).toBe(3);
    expect(moved(after, "llm_relay_ttft_seconds_count", up)).toBe(2); // the two streams
    expect(moved(after, "llm_relay_overhead_seconds_count", up)).toBe(4); // every routed exchange, the failed one too
    expect(sampleValue(after, "llm_relay_recorder_queue_depth", {})).toBe(0);
    expect(sampleValue(after, "llm_relay_in_flight_requests", {})).toBe(0);
    expect(after.types.get("llm_relay_db_write_failures_total")).toBe("counter");
    // Back-to-back scrapes (prom-client resets the event-loop-lag histogram) still parse: NaN is spelled "NaN".
    await scrape();
    await scrape();
    expect(after.types.get("llm_relay_request_duration_seconds")).toBe("histogram");
  });
});
