/**
 * Graceful stop of the real `llm-relay serve` process: a signal with
 * streams in flight lets them finish within `shutdown_grace_ms` (or cancels
 * them after it, with an in-band error and their partial text recorded),
 * drains the record queue, closes the database and exits 0. Nothing is lost.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { killAll, logLines, outputOf, startServe, withTimeout, type ServeProcess } from "../helpers/cli.js";
import { rows } from "../helpers/db.js";
import { openAIError, send } from "../helpers/exchanges.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { tempDir } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";
import { match } from "../helpers/matchers.js";

let dir: string;
let fake: FakeUpstream;

beforeEach(async () => {
  dir = tempDir("llm-relay-cli-");
  fake = await startFakeUpstream();
});
afterEach(async () => {
  await killAll();
  await fake.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes the config file and starts `serve --config FILE --db FILE --port 0`. */
async function serve(graceMs: number): Promise<{ proc: ServeProcess; dbPath: string }> {
  const configPath = path.join(dir, "relay.yaml");
  fs.writeFileSync(
    configPath,
    [
      `shutdown_grace_ms: ${graceMs}`,
      "models:",
      "  slow:",
      "    provider: openai-compatible",
      `    base_url: ${fake.baseUrl}`,
      "    timeout_ms: 5000",
      "",
    ].join("\n"),
  );
  const dbPath = path.join(dir, "logs.db");
  const proc = await startServe(["--config", configPath, "--db", dbPath, "--port", "0"], { cwd: dir });
  return { proc, dbPath };
}

/** A streamed chat request read by hand, so the test knows when its first event arrived. */
interface ClientStream {
  prompt: string;
  /** Resolves once the first `data:` event has been received. */
  first: Promise<void>;
  /** Resolves with the whole body once the server has closed it. */
  body: Promise<string>;
}

function openStream(url: string, prompt: string): ClientStream {
  let markFirst!: () => void;
  const first = new Promise<void>((resolve) => (markFirst = resolve));
  const body = (async () => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "slow", stream: true, messages: [{ role: "user", content: prompt }] }),
    });
    expect(response.status, prompt).toBe(200);
    const decoder = new TextDecoder();
    let text = "";
    for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(bytes, { stream: true });
      if (text.includes("data: ")) markFirst();
    }
    return text;
  })();
  // A failed request must not leave `first` pending forever (the bounded wait reports it anyway).
  body.catch(() => markFirst());
  return { prompt, first, body };
}

/** The `data:` payloads of an SSE body. */
function events(body: string): string[] {
  return body
    .split("\n\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => block.slice("data: ".length));
}

/** The concatenated `delta.content` of the chunk events of an SSE body. */
function streamedText(body: string): string {
  let text = "";
  for (const data of events(body)) {
    if (data === "[DONE]") continue;
    const parsed = JSON.parse(data) as { choices?: { delta?: { content?: string } }[] };
    text += parsed.choices?.[0]?.delta?.content ?? "";
  }
  return text;
}

interface Recorded {
  prompt: string;
  response: string;
  status: string;
  http_status: number;
  error: string | null;
  stream: number;
  finish_reason: string | null;
}

function recorded(dbPath: string): Recorded[] {
  return rows<Recorded>(
    dbPath,
    `SELECT r.prompt, r.response, e.status, e.http_status, e.error, e.stream, e.finish_reason
       FROM llm_relay_exchanges e JOIN responses r ON r.id = e.response_id ORDER BY r.prompt`,
  );
}

/** Opens `count` streams and waits (bounded) until each has received its first event. */
async function openStreams(url: string, count: number): Promise<ClientStream[]> {
  const streams = Array.from({ length: count }, (_, i) => openStream(url, `prompt ${String(i).padStart(2, "0")}`));
  await withTimeout(
    Promise.all(streams.map((s) => s.first)),
    10_000,
    () => "not every stream received its first event",
  );
  return streams;
}

function words(count: number): string {
  return Array.from({ length: count }, (_, i) => `w${i}`).join(" ");
}

describe("llm-relay serve: graceful stop", () => {
  it("SIGTERM with 20 streams in flight: every one completes and is recorded", async () => {
    const text = words(20);
    fake.behave({ kind: "ok", text, chunkCount: 20, chunkDelayMs: 50 });
    const { proc, dbPath } = await serve(10_000);
    const streams = await openStreams(proc.url, 20);

    proc.child.kill("SIGTERM");

    const bodies = await withTimeout(
      Promise.all(streams.map((s) => s.body)),
      15_000,
      () => `streams did not end\n${outputOf(proc)}`,
    );
    for (const [i, body] of bodies.entries()) {
      expect(events(body).at(-1), streams[i]!.prompt).toBe("[DONE]");
      expect(streamedText(body), streams[i]!.prompt).toBe(text);
    }
    const exit = await proc.waitForExit(15_000);
    expect(exit, outputOf(proc)).toEqual({ code: 0, signal: null });
    // The stop was graceful, not a timeout: nothing was cancelled upstream.
    expect(fake.requests.filter((r) => r.aborted)).toHaveLength(0);

    const records = recorded(dbPath);
    expect(records).toHaveLength(20);
    expect(records.map((r) => r.prompt)).toEqual(streams.map((s) => s.prompt));
    for (const record of records) {
      expect(record, record.prompt).toMatchObject({
        status: "ok",
        http_status: 200,
        response: text,
        error: null,
        stream: 1,
        finish_reason: "stop",
      });
    }
    expect(rows(dbPath, "SELECT id FROM responses")).toHaveLength(20);
    const stopped = logLines(proc.stdout()).find((line) => line.msg === "llm-relay stopped");
    expect(stopped, outputOf(proc)).toMatchObject({ written: 20, failed: 0 });
  });

  it("SIGTERM past shutdown_grace_ms: in-flight exchanges are cancelled, the clients told so, and recorded with their partial text", async () => {
    const text = words(100);
    fake.behave({ kind: "ok", text, chunkCount: 100, chunkDelayMs: 100 });
    const { proc, dbPath } = await serve(200);
    const streams = await openStreams(proc.url, 5);
    // Two more whose upstream has not answered at all yet: nothing was sent to their clients.
    fake.behave({ kind: "stall" });
    const stalled = [true, false].map((stream) =>
      send(`${proc.url}/v1/chat/completions`, {
        body: {
          model: "slow",
          stream,
          messages: [{ role: "user", content: `stalled ${stream ? "stream" : "complete"}` }],
        },
      }),
    );
    await until(
      () => `7 upstream requests (${fake.requests.length})`,
      () => fake.requests.length === 7,
      { timeoutMs: 5_000 },
    );

    proc.child.kill("SIGTERM");

    const bodies = await withTimeout(
      Promise.all(streams.map((s) => s.body)),
      10_000,
      () => `streams did not end\n${outputOf(proc)}`,
    );
    const stalledAnswers = await withTimeout(
      Promise.all(stalled),
      10_000,
      () => `stalled requests got no answer\n${outputOf(proc)}`,
    );
    const exit = await proc.waitForExit(10_000);
    expect(exit, outputOf(proc)).toEqual({ code: 0, signal: null });
    await fake.waitForAborts(7);

    const records = recorded(dbPath);
    expect(records.map((r) => r.prompt)).toEqual([
      ...streams.map((s) => s.prompt),
      "stalled complete",
      "stalled stream",
    ]);
    for (const [i, body] of bodies.entries()) {
      const all = events(body);
      expect(all, streams[i]!.prompt).not.toContain("[DONE]");
      const last = JSON.parse(all.at(-1)!) as { error?: { code?: string; message?: string } };
      expect(last.error, `${streams[i]!.prompt}: ${body.slice(-300)}`).toMatchObject({
        code: "cancelled",
        message: "server shutting down",
      });

      const record = records[i]!;
      expect(record).toMatchObject({ status: "cancelled", error: "server shutting down", stream: 1 });
      const partial = streamedText(body);
      expect(partial.length, record.prompt).toBeGreaterThan(0);
      expect(partial.length, record.prompt).toBeLessThan(text.length);
      expect(text.startsWith(partial), record.prompt).toBe(true);
      expect(record.response, record.prompt).toBe(partial);
    }
    // Before the first byte, a cancelled exchange still gets a proper HTTP error in OpenAI's shape.
    // A stop is not the client's doing: 503 server_shutting_down, which clients may retry elsewhere.
    for (const answer of stalledAnswers) {
      expect(answer.status, answer.text).toBe(503);
      expect(openAIError(answer)).toMatchObject({
        code: "server_shutting_down",
        message: match.stringMatching(/shutting down/),
      });
    }
    for (const record of records.slice(5)) {
      expect(record, record.prompt).toMatchObject({ status: "cancelled", error: "server shutting down", response: "" });
    }
  });

  it("SIGINT stops it cleanly, with nothing lost", async () => {
    const text = words(10);
    fake.behave({ kind: "ok", text, chunkCount: 10, chunkDelayMs: 50 });
    const { proc, dbPath } = await serve(10_000);
    // One exchange finished before the signal (still in the record queue or just written)…
    const done = await fetch(`${proc.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "slow", messages: [{ role: "user", content: "prompt before" }] }),
    });
    expect(done.status).toBe(200);
    await done.text();
    // …and three in flight.
    const streams = await openStreams(proc.url, 3);

    proc.child.kill("SIGINT");

    const bodies = await withTimeout(
      Promise.all(streams.map((s) => s.body)),
      10_000,
      () => `streams did not end\n${outputOf(proc)}`,
    );
    for (const body of bodies) expect(events(body).at(-1)).toBe("[DONE]");
    const exit = await proc.waitForExit(10_000);
    expect(exit, outputOf(proc)).toEqual({ code: 0, signal: null });
    // The database was closed properly (checked before this test opens it): the WAL was checkpointed and removed.
    expect(fs.existsSync(`${dbPath}-wal`)).toBe(false);

    const records = recorded(dbPath);
    expect(records.map((r) => [r.prompt, r.status, r.response])).toEqual([
      ["prompt 00", "ok", text],
      ["prompt 01", "ok", text],
      ["prompt 02", "ok", text],
      ["prompt before", "ok", text],
    ]);
  });
});
