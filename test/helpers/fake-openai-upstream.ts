/**
 * A fake OpenAI-compatible upstream: a real HTTP server on 127.0.0.1
 * speaking the Chat Completions protocol with the chunk shapes captured
 * from llama.cpp's llama-server (../shared/fixtures/protocols/llama-server.txt):
 * no role-only first chunk, a last chunk carrying finish_reason, usage
 * and timings, then `data: [DONE]`. Faults are injected per request: an
 * HTTP error status (429 with Retry-After, 500, …), a stall (no answer
 * ever), a connection reset before any byte or after N chunks, slow
 * headers; `enqueue` scripts the next requests, and a `cycle` repeats a
 * list of behaviours (e.g. fail every other request).
 *
 * An `ok` answer may also carry reasoning (`reasoning_content` deltas
 * before the answer, as llama-server with `--reasoning-format deepseek`,
 * DeepSeek and vLLM send it, or OpenRouter's `reasoning`), a given `usage`
 * object, Python's spaced JSON (`"content": "…"`), and the chunk shapes of
 * llama-server's 2026-09 release (../shared/fixtures/protocols/llama-server-2026-09.txt:
 * a first role chunk with `content: null`, a finish chunk without usage,
 * and a `choices: []` usage chunk carrying `prompt_tokens_details` with
 * `timings` beside `usage`).
 */
import fs from "node:fs";
import http from "node:http";
import { listenOnLoopback } from "./loopback-server.js";
import { pythonJson } from "./python-json.js";
import { handled } from "./async-handler.js";

/** What the fake does with one request. */
export type FakeBehaviour =
  /** A normal answer; `headerDelayMs` holds the response headers back that long, `chunkDelayMs` waits after each chunk. */
  | ({ kind: "ok"; text?: string; chunkDelayMs?: number; chunkCount?: number; headerDelayMs?: number } & AnswerShape)
  /** An HTTP error with this status, body and headers (e.g. `Retry-After`). */
  | { kind: "status"; status: number; body: string; headers?: Record<string, string> }
  /** A stream that sends `chunks` content chunks, then resets the connection (TCP RST). */
  | { kind: "reset-after"; chunks: number; text?: string }
  /** Resets the connection (TCP RST) before sending any byte of the response. */
  | { kind: "reset" }
  /** Never answers (the request is held open until the client gives up). */
  | { kind: "stall" }
  /** Request i (counted from when this behaviour was set) gets `steps[i % steps.length]`. */
  | { kind: "cycle"; steps: FakeBehaviour[] };

/** What an `ok` answer carries besides its text, and how it is written. */
export interface AnswerShape {
  /** Reasoning sent before the answer: `reasoning_content` deltas (in `chunkCount` pieces), or on the message when not streamed. */
  reasoning?: string;
  /** The field the reasoning goes in: `reasoning_content` (llama-server, DeepSeek, vLLM; the default) or `reasoning` (OpenRouter). */
  reasoningField?: "reasoning_content" | "reasoning";
  /** The `usage` object reported (default {@link DEFAULT_USAGE}; with `llamaServer2026`, the captured one). */
  usage?: Record<string, unknown>;
  /** Write every payload as Python's `json.dumps` does (`", "` and `": "`), instead of compact JSON. */
  spaced?: boolean;
  /** Chunk shapes of llama-server's 2026-09 release (see the module comment); the usage chunk replays the captured `timings`. */
  llamaServer2026?: boolean;
}

/** One request the fake received. */
export interface ReceivedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** Set when the client (the proxy) closed the connection before the response ended. */
  aborted: boolean;
  /** Chunks written before the end or the abort. */
  chunksSent: number;
  /** Every byte of the response body written, as text. */
  bodySent: string;
}

/** A running fake upstream. */
export interface FakeUpstream {
  /** e.g. `http://127.0.0.1:12345/v1` */
  baseUrl: string;
  requests: ReceivedRequest[];
  /** Sets the behaviour of the following requests (and forgets what was enqueued). */
  behave(behaviour: FakeBehaviour): void;
  /** The next requests get these behaviours, one each, in order; then the `behave` one again. */
  enqueue(...behaviours: FakeBehaviour[]): void;
  /** Resolves when `n` requests have been aborted by the client. */
  waitForAborts(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const CREATED = 1795257782;

/** The usage the fake reports unless an answer names its own. */
export const DEFAULT_USAGE = { completion_tokens: 12, prompt_tokens: 46, total_tokens: 58 };

/**
 * The usage chunk of llama-server's 2026-09 stream, as captured
 * (`{"choices":[],…,"usage":{…,"prompt_tokens_details":{"cached_tokens":45}},"timings":{"cache_n":45,…}}`).
 */
export const LLAMA_2026_USAGE_CHUNK = capturedLlama2026UsageChunk();

function capturedLlama2026UsageChunk(): Record<string, unknown> {
  const text = fs.readFileSync(
    new URL("../../../shared/fixtures/protocols/llama-server-2026-09.txt", import.meta.url),
    "utf8",
  );
  const start = text.indexOf("### POST /v1/chat/completions (stream, include_usage)");
  const end = text.indexOf("### ", start + 4);
  const data = text
    .slice(start, end)
    .split("\n")
    .filter((line) => line.startsWith("data: {"))
    .map((line) => JSON.parse(line.slice("data: ".length)) as Record<string, unknown>);
  const usageChunk = data.find((chunk) => Array.isArray(chunk.choices) && chunk.choices.length === 0);
  if (!usageChunk) throw new Error("no usage chunk in the llama-server 2026-09 capture");
  return usageChunk;
}

/** The default answer text (a fragment of the captured llama-server reply). */
export const DEFAULT_TEXT = '"Here," replake a little girl. "It\'s a';

/** Splits text into `count` pieces of nearly equal length. */
export function splitText(text: string, count: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / count));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** A `chat.completion.chunk` in llama-server's key order (../shared/fixtures/protocols/llama-server.txt). */
export function chunk(
  id: string,
  model: string,
  delta: Record<string, unknown>,
  finish: string | null,
  extra: Record<string, unknown> = {},
) {
  return {
    choices: [{ finish_reason: finish, index: 0, delta }],
    created: CREATED,
    id,
    model,
    system_fingerprint: "b0-unknown",
    object: "chat.completion.chunk",
    ...extra,
  };
}

/**
 * A non-streaming `chat.completion` answering `text`, in llama-server's key order, with `extra` fields after `id`;
 * `message` adds fields to the message (e.g. `reasoning_content`).
 */
export function completion(
  id: string,
  model: string,
  text: string,
  usage: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  message: Record<string, unknown> = {},
) {
  return {
    choices: [{ finish_reason: "stop", index: 0, message: { role: "assistant", content: text, ...message } }],
    created: CREATED,
    model,
    system_fingerprint: "b0-unknown",
    object: "chat.completion",
    usage,
    id,
    ...extra,
  };
}

/** The usage-only chunk OpenAI sends last when `stream_options.include_usage` is set. */
export function usageChunk(id: string, model: string, usage: Record<string, unknown>) {
  return { id, object: "chat.completion.chunk", created: CREATED, model, choices: [], usage };
}

/** Starts the fake on an ephemeral loopback port. */
export async function startFakeUpstream(initial: FakeBehaviour = { kind: "ok" }): Promise<FakeUpstream> {
  let behaviour = initial;
  let cycled = 0;
  let queued: FakeBehaviour[] = [];
  /** The behaviour of the next request. */
  const nextBehaviour = (): Exclude<FakeBehaviour, { kind: "cycle" }> => {
    const current = queued.shift() ?? behaviour;
    if (current.kind !== "cycle") return current;
    const step = current.steps[cycled++ % current.steps.length]!;
    if (step.kind === "cycle") throw new Error("a cycle cannot contain a cycle");
    return step;
  };
  const requests: ReceivedRequest[] = [];
  let abortWaiters: { n: number; resolve: () => void }[] = [];
  const notifyAbort = () => {
    const aborted = requests.filter((r) => r.aborted).length;
    abortWaiters = abortWaiters.filter((w) => (aborted >= w.n ? (w.resolve(), false) : true));
  };

  const server = http.createServer(
    handled(async (req, res) => {
      let raw = "";
      for await (const piece of req) raw += piece;
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
        res.end(
          '{"error":{"code":500,"message":"[json.exception.parse_error.101] parse error","type":"server_error"}}',
        );
        return;
      }
      const received: ReceivedRequest = {
        path: req.url ?? "",
        headers: req.headers,
        body,
        aborted: false,
        chunksSent: 0,
        bodySent: "",
      };
      const write = res.write.bind(res);
      res.write = ((piece: string) => {
        received.bodySent += piece;
        return write(piece);
      }) as typeof res.write;
      const endResponse = res.end.bind(res);
      res.end = ((piece?: string) => {
        if (typeof piece === "string") received.bodySent += piece;
        return endResponse(piece);
      }) as typeof res.end;
      requests.push(received);
      res.on("close", () => {
        if (!res.writableFinished) {
          received.aborted = true;
          notifyAbort();
        }
      });
      const current = nextBehaviour();
      const model = typeof body.model === "string" ? body.model : "gpt-3.5-turbo";
      const id = `chatcmpl-fake${requests.length}`;
      if (current.kind === "stall") return;
      if (current.kind === "reset") {
        req.socket.resetAndDestroy();
        return;
      }
      if (current.kind === "ok" && current.headerDelayMs) await sleep(current.headerDelayMs);
      if (res.destroyed) return;
      if (current.kind === "status") {
        res.writeHead(current.status, { "content-type": "application/json; charset=utf-8", ...current.headers });
        res.end(current.body);
        return;
      }
      const text = current.text ?? DEFAULT_TEXT;
      const shape: AnswerShape = current.kind === "ok" ? current : {};
      const usage =
        shape.usage ??
        (shape.llamaServer2026 ? (LLAMA_2026_USAGE_CHUNK.usage as Record<string, unknown>) : DEFAULT_USAGE);
      const encode = shape.spaced ? pythonJson : JSON.stringify;
      const reasoningField = shape.reasoningField ?? "reasoning_content";
      if (!body.stream) {
        res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
        const message = shape.reasoning !== undefined ? { [reasoningField]: shape.reasoning } : {};
        const timings = shape.llamaServer2026 ? LLAMA_2026_USAGE_CHUNK.timings : { prompt_n: 46, predicted_n: 12 };
        res.end(encode(completion(id, model, text, usage, { timings, x_unknown_upstream_field: "kept" }, message)));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      const pieces =
        current.kind === "reset-after"
          ? splitText(text, Math.max(current.chunks, 1) + 3)
          : splitText(text, current.chunkCount ?? 8);
      const delay = current.kind === "ok" ? (current.chunkDelayMs ?? 0) : 0;
      if (shape.llamaServer2026)
        res.write(`data: ${encode(chunk(id, model, { role: "assistant", content: null }, null))}\n\n`);
      for (const piece of shape.reasoning
        ? splitText(shape.reasoning, current.kind === "ok" ? (current.chunkCount ?? 8) : 8)
        : []) {
        res.write(`data: ${encode(chunk(id, model, { [reasoningField]: piece }, null))}\n\n`);
        if (delay) await sleep(delay);
      }
      for (const [i, piece] of pieces.entries()) {
        if (current.kind === "reset-after" && i === current.chunks) {
          await sleep(20);
          res.socket?.resetAndDestroy();
          return;
        }
        if (res.destroyed) return;
        res.write(`data: ${encode(chunk(id, model, { content: piece }, null))}\n\n`);
        received.chunksSent += 1;
        if (delay) await sleep(delay);
      }
      const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
      // llama-server puts usage on the finish chunk; OpenAI sends a separate usage chunk when asked.
      if (shape.llamaServer2026) {
        // 2026-09: the finish chunk carries nothing else; usage and timings come on the `choices: []` chunk.
        res.write(`data: ${encode(chunk(id, model, {}, "stop"))}\n\n`);
        if (includeUsage) res.write(`data: ${encode({ ...LLAMA_2026_USAGE_CHUNK, id, model, usage })}\n\n`);
      } else {
        res.write(`data: ${encode(chunk(id, model, {}, "stop", { timings: { prompt_n: 46, predicted_n: 12 } }))}\n\n`);
        if (includeUsage) res.write(`data: ${encode(usageChunk(id, model, usage))}\n\n`);
      }
      res.end("data: [DONE]\n\n");
    }),
  );
  const listening = await listenOnLoopback(server);
  const { port } = listening;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    behave(next) {
      behaviour = next;
      cycled = 0;
      queued = [];
    },
    enqueue(...next) {
      queued.push(...next);
    },
    waitForAborts(n, timeoutMs = 5000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only ${requests.filter((r) => r.aborted).length} of ${n} aborts seen`)),
          timeoutMs,
        );
        abortWaiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
        notifyAbort();
      });
    },
    async close() {
      await listening.close();
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
