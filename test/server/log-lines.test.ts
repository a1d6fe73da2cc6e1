/**
 * One log line per exchange, written when its answer ends: a slow exchange
 * and a fast one started after it log in the order they complete (the fast
 * one first), each line before its record is written (the store marks each
 * write in the same log stream), with the record's id in it. Embeddings
 * (here one that fails) likewise.
 */
import http from "node:http";
import path from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig, type RelayConfig } from "../../src/config/load.js";
import { asModelGroups } from "../../src/config/schema.js";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import type { RecordStore } from "../../src/recording/types.js";
import { startRelayServer, type RelayServer } from "../../src/server/relay-server.js";
import { handled } from "../helpers/async-handler.js";
import { rows } from "../helpers/db.js";
import { completion, DEFAULT_USAGE } from "../helpers/fake-openai-upstream.js";
import { listenOnLoopback, type Listening } from "../helpers/loopback-server.js";
import { fakeDeployment, tempDir } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

/** Every JSON line the proxy's logger wrote, in order. */
let lines: Record<string, unknown>[];
let server: RelayServer;
let upstream: Listening;
let dbPath: string;
/** Resolves the slow upstream's held answer. */
let release: () => void;
let held: Promise<void>;
let slowArrived: boolean;

/** The line marking that the store wrote a record (or an embedding record) with this id. */
const WRITTEN = "test: record written";

beforeEach(async () => {
  lines = [];
  slowArrived = false;
  held = new Promise((resolve) => (release = resolve));
  upstream = await listenOnLoopback(
    http.createServer(
      handled(async (req, res) => {
        for await (const piece of req) void piece;
        slowArrived = true;
        await held;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(completion("chatcmpl-slow", "slow-upstream", "at last", DEFAULT_USAGE)));
      }),
    ),
  );
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: "info" }, destination);
  const dir = tempDir("llm-relay-log-lines-");
  dbPath = path.join(dir, "logs.db");
  const real = SqliteStore.open(dbPath);
  // The real store, marking each write in the log stream once it is done.
  const store: RecordStore = {
    writeBatch(records) {
      real.writeBatch(records);
      for (const record of records) logger.info({ recordId: record.id }, WRITTEN);
    },
    writeEmbeddings(records) {
      real.writeEmbeddings(records);
      for (const record of records) logger.info({ recordId: record.id }, WRITTEN);
    },
    isWritable: () => real.isWritable(),
    listResponses: (query) => real.listResponses(query),
    findExchange: (id, tenant) => real.findExchange(id, tenant),
    close: () => real.close(),
  };
  const base = loadConfig({ cwd: dir, env: {}, db: dbPath, port: 0 });
  const config: RelayConfig = {
    ...base,
    models: {
      ...base.models,
      ...asModelGroups({ slow: fakeDeployment(`http://127.0.0.1:${upstream.port}`) }, base.routing),
    },
  };
  server = await startRelayServer(config, { logger, store, env: {} });
});
afterEach(async () => {
  release();
  await server.close();
  await upstream.close();
});

/** A chat exchange; resolves with the response once its body has been read. */
async function chat(model: string, text: string, stream = false): Promise<Response> {
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, stream, messages: [{ role: "user", content: text }] }),
  });
  await res.clone().text();
  return res;
}

/** The index in the log of the first line matching `test`, or -1. */
function indexOf(test: (line: Record<string, unknown>) => boolean): number {
  return lines.findIndex(test);
}

describe("exchange log lines", () => {
  it("come out in the order answers end, each before its record is written, with the record's id", async () => {
    const slow = chat("slow", "the slow question");
    await until("the slow request upstream", () => slowArrived);
    const fast = await chat("fast-echo", "the fast question", true);
    expect(fast.status).toBe(200);
    const fastId = fast.headers.get("x-request-id");
    await until("the fast exchange's record", () => indexOf((l) => l.msg === WRITTEN) >= 0);
    // The slow exchange is still waiting for its upstream: no line for it yet.
    expect(lines.filter((l) => l.msg === "chat.completion").map((l) => l.id)).toEqual([fastId]);
    release();
    const slowRes = await slow;
    expect(slowRes.status).toBe(200);
    const slowId = slowRes.headers.get("x-request-id");
    await server.ctx.recorder.flush();

    const exchangeLines = lines.filter((l) => l.msg === "chat.completion");
    expect(exchangeLines.map((l) => l.id)).toEqual([fastId, slowId]);
    const recorded = rows<{ id: string; prompt: string }>(dbPath, "SELECT id, prompt FROM responses ORDER BY id");
    // The slow exchange started first, so its record's id sorts first; its line came second.
    expect(recorded.map((r) => r.prompt)).toEqual(["the slow question", "the fast question"]);
    const [slowRecord, fastRecord] = recorded;
    for (const record of recorded) {
      const line = indexOf((l) => l.msg === "chat.completion" && l.responseId === record.id);
      const written = indexOf((l) => l.msg === WRITTEN && l.recordId === record.id);
      expect(line).toBeGreaterThanOrEqual(0);
      expect(written, `the record of ${record.prompt} is written after its line`).toBeGreaterThan(line);
    }
    expect(exchangeLines[0]).toMatchObject({
      id: fastId,
      responseId: fastRecord!.id,
      model: "fast-echo",
      protocol: "chat",
      deployment: "echo",
      status: 200,
      outcome: "ok",
      tenant: "default",
    });
    expect(exchangeLines[0]!.ttftMs).toEqual(expect.any(Number));
    // echo streams its usage chunk: the counts it reported.
    const fastTokens = exchangeLines[0]!.tokens as { input: number; output: number; estimated: boolean };
    expect(fastTokens).toMatchObject({ output: 3, estimated: false });
    expect(fastTokens.input).toBeGreaterThan(0);
    expect(exchangeLines[1]).toMatchObject({
      id: slowId,
      responseId: slowRecord!.id,
      model: "slow",
      outcome: "ok",
      tokens: { input: DEFAULT_USAGE.prompt_tokens, output: DEFAULT_USAGE.completion_tokens, estimated: false },
    });
  });

  it("a failed embeddings exchange logs its line, with its record's id, before the record is written", async () => {
    const res = await fetch(`${server.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "echo", input: ["a", "b"] }),
    });
    expect(res.status).toBe(400);
    await server.ctx.recorder.flush();
    const [embedding] = rows<{ id: string; status: string }>(dbPath, "SELECT id, status FROM llm_relay_embeddings");
    expect(embedding).toMatchObject({ status: "error" });
    const line = indexOf((l) => l.msg === "embeddings" && l.embeddingId === embedding!.id);
    expect(lines[line]).toMatchObject({ model: "echo", status: 400, outcome: "error", inputs: 2 });
    expect(indexOf((l) => l.msg === WRITTEN && l.recordId === embedding!.id)).toBeGreaterThan(line);
  });
});
