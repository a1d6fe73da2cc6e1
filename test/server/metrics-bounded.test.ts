/**
 * `/metrics` stays bounded whatever model names clients send: the `model`
 * label takes only routable names (what `/v1/models` lists and the config's
 * `models:` names); a name that only reached a catch-all (`default_model`,
 * a `prefix/*` pattern) or was refused is `other`, so 20 random names add
 * no series. Node's process metrics keep prom-client's standard names.
 * Real proxy, real HTTP, the exposition parsed strictly (helpers/prometheus.ts).
 */
import crypto from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chat, chatBody, send } from "../helpers/exchanges.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { parsePrometheusText, type Exposition } from "../helpers/prometheus.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";

let fake: FakeUpstream;
let proxy: TestProxy | null = null;
beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  await proxy?.close();
  proxy = null;
});

/** The metrics once every exchange sent so far has been observed (the recorder observes them off the request path). */
async function scrape(p: TestProxy): Promise<{ text: string; exposition: Exposition }> {
  await p.server.ctx.recorder.flush();
  const answer = await send(`${p.url}/metrics`);
  expect(answer.status).toBe(200);
  return { text: answer.text, exposition: parsePrometheusText(answer.text) };
}

/** The distinct values of the `model` label, and the number of samples carrying one. */
function modelSeries(exposition: Exposition): { values: string[]; samples: number } {
  const labelled = exposition.samples.filter((s) => s.labels.model !== undefined);
  return { values: [...new Set(labelled.map((s) => s.labels.model!))].sort(), samples: labelled.length };
}

const randomName = () => `random-${crypto.randomUUID()}`;

describe("the model label", () => {
  it("takes only routable names: 20 random names through the default route add no series", async () => {
    proxy = await startTestProxy();
    expect((await chat(proxy, chatBody("echo"))).status).toBe(200);
    expect((await chat(proxy, chatBody(randomName()))).status).toBe(200);
    const before = modelSeries((await scrape(proxy)).exposition);
    expect(before.values).toEqual(["echo", "other"]);

    const answers = await Promise.all(Array.from({ length: 20 }, () => chat(proxy!, chatBody(randomName()))));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const { text, exposition } = await scrape(proxy);
    const after = modelSeries(exposition);
    expect(after).toEqual(before);
    expect(text).not.toContain("random-");
    // The 21 random exchanges are all counted, under `other`.
    const count = exposition.samples.find(
      (s) => s.name === "llm_relay_request_duration_seconds_count" && s.labels.model === "other",
    );
    expect(count?.value).toBe(21);
  });

  it("keeps configured names and aliases, and counts pattern-only and refused names as other", async () => {
    proxy = await startTestProxy({
      defaultModel: null,
      models: { "my-model": fakeDeployment(fake.baseUrl), "fake/*": fakeDeployment(fake.baseUrl) },
      aliases: { fast: "my-model" },
    });
    fake.behave({ kind: "ok" });
    expect((await chat(proxy, chatBody("my-model"))).status).toBe(200);
    expect((await chat(proxy, chatBody("fast"))).status).toBe(200);
    for (let i = 0; i < 10; i++) {
      expect((await chat(proxy, chatBody(`fake/${randomName()}`))).status).toBe(200);
      expect((await chat(proxy, chatBody(randomName()))).status).toBe(404);
    }
    const { text, exposition } = await scrape(proxy);
    expect(modelSeries(exposition).values).toEqual(["fast", "my-model", "other"]);
    expect(text).not.toContain("random-");
  });
});

describe("process metrics", () => {
  it("keep prom-client's standard names", async () => {
    proxy = await startTestProxy();
    const { exposition } = await scrape(proxy);
    const names = new Set(exposition.samples.map((s) => s.name));
    for (const name of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "process_start_time_seconds",
      "nodejs_heap_size_total_bytes",
      "nodejs_eventloop_lag_seconds",
    ])
      expect(names.has(name), name).toBe(true);
    expect(exposition.types.get("process_cpu_seconds_total")).toBe("counter");
    expect([...names].filter((name) => name.startsWith("llm_relay_process_"))).toEqual([]);
    // The proxy's own metrics keep their prefix.
    expect(names.has("llm_relay_in_flight_requests")).toBe(true);
  });
});
