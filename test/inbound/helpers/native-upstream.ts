/**
 * A scripted upstream for native pass-through tests: a real HTTP server on
 * 127.0.0.1 that keeps every request's raw body bytes and headers, and
 * answers each from a queue: a JSON body with a status, or an SSE text
 * written event by event (each event in two writes on separate ticks, so
 * the proxy sees split reads), optionally cut off (socket destroyed) after
 * some events. Also the real streams of llama-server's 2026-09 release
 * (../shared/fixtures/protocols/llama-server-2026-09.txt), read from the capture.
 */
import fs from "node:fs";
import http from "node:http";
import { listenOnLoopback } from "../../helpers/loopback-server.js";

/** One scripted answer. */
export type NativeAnswer =
  | { kind: "json"; status?: number; body: string; headers?: Record<string, string> }
  | { kind: "sse"; text: string; cutAfterEvents?: number }
  /** Sends the SSE headers and then nothing, until the client goes. */
  | { kind: "stall" };

/** One request as the upstream received it. */
export interface NativeReceived {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The body exactly as received. */
  raw: Buffer;
}

/** A running scripted upstream. */
export interface NativeUpstream {
  /** `http://127.0.0.1:PORT` */
  url: string;
  requests: NativeReceived[];
  /** Queues answers for the next requests, in order (an empty queue answers 500). */
  queue(...answers: NativeAnswer[]): void;
  /** Drops the answers still queued. */
  dequeueAll(): void;
  close(): Promise<void>;
}

/** Starts a scripted upstream on an ephemeral loopback port. */
export async function startNativeUpstream(): Promise<NativeUpstream> {
  const queued: NativeAnswer[] = [];
  const requests: NativeReceived[] = [];
  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const pieces: Buffer[] = [];
    for await (const piece of req) pieces.push(piece as Buffer);
    requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, raw: Buffer.concat(pieces) });
    const answer = queued.shift() ?? { kind: "json", status: 500, body: '{"error":{"message":"nothing queued"}}' };
    if (answer.kind === "json") {
      res.writeHead(answer.status ?? 200, { "content-type": "application/json", ...answer.headers });
      res.end(answer.body);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    if (answer.kind === "stall") {
      res.flushHeaders();
      return;
    }
    const events = answer.text.split(/(?<=\n\n)/);
    const count = answer.cutAfterEvents ?? events.length;
    for (const event of events.slice(0, count)) {
      const half = Math.ceil(event.length / 2);
      for (const piece of [event.slice(0, half), event.slice(half)]) {
        res.write(piece);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    if (answer.cutAfterEvents !== undefined) res.socket?.destroy();
    else res.end();
  }
  const server = http.createServer((req, res) => void handle(req, res));
  const listening = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${listening.port}`,
    requests,
    queue: (...answers) => void queued.push(...answers),
    dequeueAll: () => void queued.splice(0),
    close: () => listening.close(),
  };
}

const CAPTURE = "/work/shared/fixtures/protocols/llama-server-2026-09.txt";

/**
 * The body of one exchange of the llama-server 2026-09 capture, by its heading
 * (e.g. `POST /v1/responses (stream)`): the text after the HTTP headers.
 */
export function llamaServerCapture(heading: string): string {
  const text = fs.readFileSync(CAPTURE, "utf8");
  const start = text.indexOf(`### ${heading}\n`);
  if (start < 0) throw new Error(`no "${heading}" in the capture`);
  const open = text.indexOf("```\n", start) + 4;
  const close = text.indexOf("\n```", open);
  const exchange = text.slice(open, close + 1);
  const body = exchange.slice(exchange.indexOf("\n\n") + 2);
  // A stream ends with its last event's blank line; a JSON body with its one line.
  return body.startsWith("{") ? body.trimEnd() : body.replace(/\n+$/, "\n\n");
}
