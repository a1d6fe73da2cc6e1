/**
 * Load balancing over a model's deployments, each a separate fake
 * upstream on loopback, counted by the requests each upstream received
 * and by the `x-llm-relay-deployment` header and the recorded deployment:
 *
 * - `simple-shuffle`: 300 requests over weights 1/2/3 land within ±5
 *   percentage points of 1/6, 2/6, 3/6;
 * - `least-busy`: a deployment holding a request open gets no other one
 *   while the others are idle;
 * - `latency-based`: after each deployment was tried once, the one with
 *   the lower time to first token gets the traffic.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rows } from "../helpers/db.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { chat, chatBody } from "../helpers/exchanges.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { group, routingHeaders } from "./resilience-helpers.js";
import { until } from "../helpers/until.js";

let fakes: FakeUpstream[] = [];
let proxy: TestProxy;

/** The three upstreams of `weighted`, `busy` and `fastest` (each model has its own fakes, so counts do not mix). */
let weighted: FakeUpstream[];
let busy: FakeUpstream[];
let fastest: FakeUpstream[];

beforeAll(async () => {
  fakes = await Promise.all(Array.from({ length: 8 }, () => startFakeUpstream()));
  weighted = fakes.slice(0, 3);
  busy = fakes.slice(3, 6);
  fastest = fakes.slice(6, 8);
  busy[0]!.behave({ kind: "stall" });
  fastest[1]!.behave({ kind: "ok", headerDelayMs: 400 });
  proxy = await startTestProxy({
    models: {
      weighted: group(
        "weighted",
        weighted.map((fake, i) => fakeDeployment(fake.baseUrl, { weight: i + 1 })),
        { strategy: "simple-shuffle" },
      ),
      busy: group(
        "busy",
        busy.map((fake) => fakeDeployment(fake.baseUrl, { timeout_ms: 30_000 })),
        { strategy: "least-busy" },
      ),
      fastest: group(
        "fastest",
        fastest.map((fake) => fakeDeployment(fake.baseUrl)),
        { strategy: "latency-based" },
      ),
    },
    defaultModel: null,
  });
});
afterAll(async () => {
  await proxy?.close();
  await Promise.all(fakes.map((fake) => fake.close()));
});

/** How many exchanges of `model` the database says each deployment answered. */
async function recordedShares(model: string): Promise<Record<string, number>> {
  await proxy.server.ctx.recorder.flush();
  const found = rows<{ deployment: string; n: number }>(
    proxy.dbPath,
    "SELECT e.deployment, count(*) AS n FROM llm_relay_exchanges e JOIN responses r ON r.id = e.response_id WHERE r.model = ? GROUP BY e.deployment",
    model,
  );
  return Object.fromEntries(found.map((row) => [row.deployment, row.n]));
}

describe("simple-shuffle", () => {
  it("spreads 300 requests over weights 1/2/3 within ±5 percentage points", async () => {
    const TOTAL = 300;
    const byHeader: Record<string, number> = {};
    // 10 at a time, half of them streamed.
    for (let start = 0; start < TOTAL; start += 10) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => chat(proxy, chatBody("weighted", { stream: (start + i) % 2 === 0 }))),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        const { deployment } = routingHeaders(answer.headers);
        byHeader[deployment!] = (byHeader[deployment!] ?? 0) + 1;
      }
    }
    const received = weighted.map((fake) => fake.requests.length);
    expect(received.reduce((a, b) => a + b, 0)).toBe(TOTAL);
    [1 / 6, 2 / 6, 3 / 6].forEach((share, i) => {
      expect(
        Math.abs(received[i]! / TOTAL - share),
        `deployment ${i + 1}: ${received[i]} of ${TOTAL}`,
      ).toBeLessThanOrEqual(0.05);
    });
    expect(byHeader).toEqual({ "weighted#1": received[0], "weighted#2": received[1], "weighted#3": received[2] });
    expect(await recordedShares("weighted")).toEqual(byHeader);
  });
});

describe("least-busy", () => {
  it("sends nothing to a deployment that holds a request open while the others are idle", async () => {
    const [held, idleA, idleB] = busy as [FakeUpstream, FakeUpstream, FakeUpstream];
    const controller = new AbortController();
    const pending: Promise<unknown>[] = [];
    // With all three idle, ties are broken at random: send requests one by one until one is held.
    for (let i = 0; held.requests.length === 0; i++) {
      expect(i, "the held deployment was never picked").toBeLessThan(100);
      const before = idleA.requests.length + idleB.requests.length;
      const request = fetch(`${proxy.baseURL}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(chatBody("busy")),
        signal: controller.signal,
      }).then((response) => response.text());
      pending.push(request.catch(() => undefined));
      // Either an idle one answered it, or the held one has it.
      await until(
        "the request at an idle or the held upstream",
        () => held.requests.length > 0 || idleA.requests.length + idleB.requests.length > before,
        { everyMs: 2 },
      );
      if (held.requests.length === 0) await request;
    }
    const idleBefore = [idleA.requests.length, idleB.requests.length];

    for (let i = 0; i < 40; i++) {
      const answer = await chat(proxy, chatBody("busy", { stream: i % 2 === 0 }));
      expect(answer.status).toBe(200);
      expect(routingHeaders(answer.headers).deployment).not.toBe("busy#1");
    }
    expect(held.requests).toHaveLength(1);
    expect(held.requests[0]!.aborted).toBe(false); // still held open
    const gained = [idleA.requests.length - idleBefore[0]!, idleB.requests.length - idleBefore[1]!];
    expect(gained[0]! + gained[1]!).toBe(40);
    // Ties between the two idle ones are broken at random: both get some.
    expect(gained[0]).toBeGreaterThan(0);
    expect(gained[1]).toBeGreaterThan(0);

    controller.abort();
    await Promise.all(pending);
    await held.waitForAborts(1);
  });
});

describe("latency-based", () => {
  it("tries each deployment once, then prefers the one with the lower time to first token", async () => {
    const [fast, slow] = fastest as [FakeUpstream, FakeUpstream];
    for (let i = 0; i < 20; i++) {
      const answer = await chat(proxy, chatBody("fastest", { stream: i % 2 === 1 }));
      expect(answer.status).toBe(200);
    }
    expect(slow.requests).toHaveLength(1);
    expect(fast.requests).toHaveLength(19);
    expect(await recordedShares("fastest")).toEqual({ "fastest#1": 19, "fastest#2": 1 });
  });
});
