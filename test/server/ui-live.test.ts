/**
 * The Live page's stream (`GET /ui/api/live`, server-sent events) on the real proxy: a snapshot at once,
 * a streamed chat request held open by a fake upstream that never answers appears in flight (model,
 * protocol, tenant, streaming) and leaves once its client goes; snapshots come at most 4 times a second
 * under a burst of exchanges; heartbeat comments keep the stream alive; and the server stops promptly
 * while a live stream is open, ending it.
 */
import path from "node:path";
import { createParser } from "eventsource-parser";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { asModelGroups } from "../../src/config/schema.js";
import { loadConfig } from "../../src/config/load.js";
import { startRelayServer, type RelayServer } from "../../src/server/relay-server.js";
import type { LiveSnapshot } from "../../src/server/ui/api-types.js";
import { send } from "../helpers/exchanges.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment, tempDir } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

/** Heartbeat period of the servers under test, in ms (15 s in production). */
const HEARTBEAT_MS = 300;

let server: RelayServer | null = null;
let upstream: FakeUpstream | null = null;
const streams: AbortController[] = [];

afterEach(async () => {
  for (const controller of streams.splice(0)) controller.abort();
  await server?.close();
  server = null;
  await upstream?.close();
  upstream = null;
});

/** Starts the proxy with a model `held` on a fake upstream that never answers. */
async function startProxy(): Promise<RelayServer> {
  upstream = await startFakeUpstream({ kind: "stall" });
  const dir = tempDir();
  const base = loadConfig({ cwd: dir, env: {}, db: path.join(dir, "logs.db"), port: 0 });
  server = await startRelayServer(
    {
      ...base,
      models: {
        ...base.models,
        ...asModelGroups({ held: fakeDeployment(upstream.baseUrl, { timeout_ms: 60_000 }) }, base.routing),
      },
    },
    { logger: pino({ level: "silent" }), env: {}, ui: { liveHeartbeatMs: HEARTBEAT_MS } },
  );
  return server;
}

/** An open live stream: the snapshots and heartbeats received so far, with their arrival time. */
interface LiveClient {
  response: Response;
  snapshots: { snapshot: LiveSnapshot; receivedAt: number }[];
  heartbeats: number;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
}

async function openLive(url: string): Promise<LiveClient> {
  const controller = new AbortController();
  streams.push(controller);
  const response = await fetch(`${url}/ui/api/live`, { signal: controller.signal });
  const client: LiveClient = { response, snapshots: [], heartbeats: 0, ended: Promise.resolve() };
  const parser = createParser({
    onEvent: (event) => {
      expect(event.event).toBe("snapshot");
      client.snapshots.push({ snapshot: JSON.parse(event.data) as LiveSnapshot, receivedAt: performance.now() });
    },
    onComment: (comment) => {
      if (comment.trim() === "heartbeat") client.heartbeats++;
    },
  });
  client.ended = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>)
        parser.feed(decoder.decode(bytes, { stream: true }));
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  })();
  return client;
}

const last = (client: LiveClient): LiveSnapshot | undefined => client.snapshots.at(-1)?.snapshot;

describe("the live stream", () => {
  it("shows a held-open stream in flight while it lasts, and its leaving", async () => {
    const proxy = await startProxy();
    const live = await openLive(proxy.url);
    expect(live.response.status).toBe(200);
    expect(live.response.headers.get("content-type")).toContain("text/event-stream");
    expect(live.response.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(live.response.headers.get("x-content-type-options")).toBe("nosniff");
    await until("the first snapshot", () => live.snapshots.length >= 1);
    const first = live.snapshots[0]!.snapshot;
    expect(first.inFlight).toEqual([]);
    expect(first.recorderQueued).toBe(0);
    expect(first.health).toMatchObject({ status: "ok", in_flight: 0 });

    const client = new AbortController();
    const held = fetch(`${proxy.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "held", stream: true, messages: [{ role: "user", content: "hold on" }] }),
      signal: client.signal,
    }).catch((error: unknown) => error);
    await until("the held exchange in a snapshot", () => (last(live)?.inFlight.length ?? 0) === 1);
    const inFlight = last(live)!.inFlight[0]!;
    expect(inFlight).toMatchObject({ model: "held", protocol: "chat", tenant: "default", streaming: true });
    expect(inFlight.id).toMatch(/^[0-9a-z]{26}$/);
    expect(inFlight.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(Math.abs(inFlight.startedMs - Date.now())).toBeLessThan(10_000);
    expect(last(live)!.health).toMatchObject({ in_flight: 1 });

    client.abort();
    await held;
    await until("the held exchange gone from the snapshots", () => last(live)?.inFlight.length === 0);
    // Its record: a cancelled exchange, under the id the Live page showed.
    await proxy.ctx.recorder.flush();
    await until("the cancelled exchange recorded", async () => {
      const answer = await send(`${proxy.url}/ui/api/exchanges/${inFlight.id}`);
      return answer.status === 200;
    });
    const detail = await send(`${proxy.url}/ui/api/exchanges/${inFlight.id}`);
    expect(detail.json).toMatchObject({ data: { turn: { exchange: { status: "cancelled", model: "held" } } } });
  });

  it("sends at most 4 snapshots a second under a burst, and heartbeats in between", async () => {
    const proxy = await startProxy();
    const live = await openLive(proxy.url);
    await until("the first snapshot", () => live.snapshots.length >= 1);
    const burst = Array.from({ length: 20 }, (_, i) =>
      send(`${proxy.url}/v1/chat/completions`, {
        body: { model: "echo", messages: [{ role: "user", content: `burst ${i}` }] },
      }),
    );
    const answers = await Promise.all(burst);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await until("a snapshot after the burst with nothing in flight", () => {
      const latest = last(live);
      return live.snapshots.length > 1 && latest !== undefined && latest.inFlight.length === 0;
    });
    // 20 exchanges are 40 changes; the stream coalesced them.
    expect(live.snapshots.length).toBeGreaterThan(1);
    expect(live.snapshots.length).toBeLessThan(40);
    const times = live.snapshots.map((s) => s.receivedAt);
    for (let i = 2; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(200);
    await until("two heartbeats", () => live.heartbeats >= 2, { timeoutMs: 5_000 });
  });

  it("does not hold up a stop: the server closes promptly and ends the open stream", async () => {
    const proxy = await startProxy();
    const live = await openLive(proxy.url);
    await until("the first snapshot", () => live.snapshots.length >= 1);
    const started = performance.now();
    await proxy.close();
    server = null;
    expect(performance.now() - started).toBeLessThan(3_000);
    await live.ended;
  });
});
