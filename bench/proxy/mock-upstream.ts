/**
 * Mock OpenAI-compatible upstream for the proxy benchmark: a node:http
 * server on 127.0.0.1 answering `POST /v1/chat/completions` from
 * precomputed bodies.
 *
 * - non-streaming: one `chat.completion` JSON with usage;
 * - streaming: `--chunks N` (default 20) content `chat.completion.chunk`
 *   events (the first also carries the role), then the final chunk with an
 *   empty delta and `finish_reason: "stop"`, then a usage-only chunk
 *   (`choices: []`) only when the request has `stream_options.include_usage`,
 *   then `data: [DONE]`. With `--chunk-delay-ms 0` (default) the whole
 *   stream is written at once; otherwise one event per delay.
 *
 * Prints `{"port":N}` on stdout once listening (`--port 0`, the default, picks one).
 * Exits on SIGINT/SIGTERM (the orchestrator also preloads watch-parent.mjs).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket } from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    chunks: { type: "string", default: "20" },
    "chunk-delay-ms": { type: "string", default: "0" },
  },
});
const port = Number(values.port);
const chunkCount = Number(values.chunks);
const chunkDelayMs = Number(values["chunk-delay-ms"]);
if (!Number.isInteger(port) || port < 0 || !Number.isInteger(chunkCount) || chunkCount < 1 || !(chunkDelayMs >= 0)) {
  process.stderr.write("mock-upstream: bad --port/--chunks/--chunk-delay-ms\n");
  process.exit(2);
}

const CREATED = 1795257782;
const ID = "chatcmpl-bench";
const MODEL = "mock";
const TEXT_WORDS =
  "The quick brown fox jumps over the lazy dog while the relay records every single word it forwards".split(" ");
const USAGE = { prompt_tokens: 31, completion_tokens: chunkCount, total_tokens: 31 + chunkCount };

function piece(i: number): string {
  return (i === 0 ? "" : " ") + TEXT_WORDS[i % TEXT_WORDS.length];
}

const fullText = Array.from({ length: chunkCount }, (_, i) => piece(i)).join("");
const NON_STREAM_BODY = Buffer.from(
  JSON.stringify({
    id: ID,
    object: "chat.completion",
    created: CREATED,
    model: MODEL,
    system_fingerprint: "fp_bench",
    choices: [{ index: 0, message: { role: "assistant", content: fullText }, logprobs: null, finish_reason: "stop" }],
    usage: USAGE,
  }),
);

function sse(obj: unknown): string {
  return `data: ${JSON.stringify(obj)}\n\n`;
}
function chunk(delta: Record<string, unknown>, finish: string | null): string {
  return sse({
    id: ID,
    object: "chat.completion.chunk",
    created: CREATED,
    model: MODEL,
    system_fingerprint: "fp_bench",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
}

/** The N content events (the first carries the role), then the finish chunk. */
const CONTENT_EVENTS: string[] = [
  ...Array.from({ length: chunkCount }, (_, i) =>
    chunk(i === 0 ? { role: "assistant", content: piece(i) } : { content: piece(i) }, null),
  ),
  chunk({}, "stop"),
];
const USAGE_EVENT = sse({
  id: ID,
  object: "chat.completion.chunk",
  created: CREATED,
  model: MODEL,
  system_fingerprint: "fp_bench",
  choices: [],
  usage: USAGE,
});
const DONE_EVENT = "data: [DONE]\n\n";
const STREAM_BODY_PLAIN = Buffer.from(CONTENT_EVENTS.join("") + DONE_EVENT);
const STREAM_BODY_USAGE = Buffer.from(CONTENT_EVENTS.join("") + USAGE_EVENT + DONE_EVENT);

const JSON_HEADERS = { "content-type": "application/json", "content-length": String(NON_STREAM_BODY.length) };
const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function streamSlowly(res: http.ServerResponse, includeUsage: boolean): Promise<void> {
  res.writeHead(200, SSE_HEADERS);
  for (const event of CONTENT_EVENTS) {
    if (res.destroyed) return;
    res.write(event);
    await sleep(chunkDelayMs);
  }
  if (res.destroyed) return;
  if (includeUsage) res.write(USAGE_EVENT);
  res.end(DONE_EVENT);
}

const server = http.createServer({ keepAlive: true, keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
  if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":"not_found"}}');
    return;
  }
  const parts: Buffer[] = [];
  req.on("data", (b: Buffer) => parts.push(b));
  req.on("end", () => {
    let body: { stream?: unknown; stream_options?: { include_usage?: unknown } | null };
    try {
      body = JSON.parse(
        parts.length === 1 ? parts[0]!.toString("utf8") : Buffer.concat(parts).toString("utf8"),
      ) as typeof body;
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      res.end('{"error":{"message":"invalid JSON","type":"invalid_request_error","param":null,"code":null}}');
      return;
    }
    if (body.stream !== true) {
      res.writeHead(200, JSON_HEADERS);
      res.end(NON_STREAM_BODY);
      return;
    }
    const includeUsage = body.stream_options?.include_usage === true;
    if (chunkDelayMs > 0) {
      void streamSlowly(res, includeUsage);
      return;
    }
    res.writeHead(200, SSE_HEADERS);
    res.end(includeUsage ? STREAM_BODY_USAGE : STREAM_BODY_PLAIN);
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;

const sockets = new Set<Socket>();
server.on("connection", (socket: Socket) => {
  socket.setNoDelay(true);
  sockets.add(socket);
  socket.on("close", () => sockets.delete(socket));
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0));
  for (const socket of sockets) socket.destroy();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
