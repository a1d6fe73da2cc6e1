/**
 * A scripted OpenAI Chat Completions upstream for the inbound-protocol
 * tests: a real HTTP server on 127.0.0.1 whose next answers are given as
 * {@link ScriptedAnswer}s — text, reasoning (`reasoning_content`), tool
 * calls, a finish reason and usage — written as a `chat.completion` or as
 * `chat.completion.chunk` SSE events (one piece per event, usage last,
 * then `data: [DONE]`), or a stream broken after some events. A request with
 * `logprobs: true` gets each text piece's log probability (one token per piece). Every
 * request body it receives is kept.
 */
import http from "node:http";
import { listenOnLoopback, type Listening } from "../../helpers/loopback-server.js";

/** One tool call of a scripted answer; `pieces` are the argument fragments streamed one by one. */
export interface ScriptedToolCall {
  id: string;
  name: string;
  pieces: string[];
}

/** What the fake answers to one request. */
export interface ScriptedAnswer {
  reasoning?: string[];
  text?: string[];
  toolCalls?: ScriptedToolCall[];
  finishReason?: string;
  /** The choice's `stop_reason` (vLLM: the stop string matched). */
  stopReason?: string;
  usage?: Record<string, unknown>;
  /** Streamed only: after this many content events the connection is destroyed (no finish, no usage, no [DONE]). */
  breakAfter?: number;
  /** Answer this HTTP status with an OpenAI error body instead. */
  status?: number;
}

/** A running scripted upstream. */
export interface ChatScriptUpstream {
  /** `http://127.0.0.1:PORT/v1` */
  baseUrl: string;
  /** Every request body received, in order. */
  bodies: Record<string, unknown>[];
  /** The next requests get these answers, in order; after them, `fallback`. */
  enqueue(...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

const DEFAULT_USAGE = { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 };

/** Starts the fake; requests beyond the enqueued answers get `fallback`. */
export async function startChatScriptUpstream(
  fallback: ScriptedAnswer = { text: ["fine"] },
): Promise<ChatScriptUpstream> {
  const queue: ScriptedAnswer[] = [];
  const bodies: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (piece: string) => (raw += piece));
    req.on("end", () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      bodies.push(body);
      answer(queue.shift() ?? fallback, body, res);
    });
  });
  const listening: Listening = await listenOnLoopback(server);
  return {
    baseUrl: `http://127.0.0.1:${listening.port}/v1`,
    bodies,
    enqueue: (...answers) => queue.push(...answers),
    close: () => listening.close(),
  };
}

function answer(script: ScriptedAnswer, body: Record<string, unknown>, res: http.ServerResponse): void {
  if (script.status) {
    res.writeHead(script.status, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message: "scripted failure", type: "server_error", param: null, code: null } }));
    return;
  }
  const model = typeof body.model === "string" ? body.model : "m";
  const finish = script.finishReason ?? (script.toolCalls?.length ? "tool_calls" : "stop");
  const usage = script.usage ?? DEFAULT_USAGE;
  // Asked for `logprobs: true`: each text piece is one token, logprob -(i+1)/10, with `top_logprobs` alternatives.
  const withLogprobs = body.logprobs === true;
  const topCount = typeof body.top_logprobs === "number" ? body.top_logprobs : 0;
  const tokenLogprob = (token: string, i: number) => ({
    token,
    logprob: -(i + 1) / 10,
    bytes: null,
    top_logprobs: [
      { token, logprob: -(i + 1) / 10, bytes: null },
      { token: "<alt>", logprob: -9, bytes: null },
    ].slice(0, topCount),
  });
  if (body.stream !== true) {
    const message: Record<string, unknown> = { role: "assistant", content: (script.text ?? []).join("") || null };
    if (script.reasoning) message.reasoning_content = script.reasoning.join("");
    if (script.toolCalls?.length)
      message.tool_calls = script.toolCalls.map((call) => ({
        id: call.id,
        type: "function",
        function: { name: call.name, arguments: call.pieces.join("") },
      }));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id: "chatcmpl-script",
        object: "chat.completion",
        created: 1,
        model,
        choices: [
          {
            index: 0,
            message,
            finish_reason: finish,
            ...(withLogprobs ? { logprobs: { content: (script.text ?? []).map(tokenLogprob) } } : {}),
            ...(script.stopReason ? { stop_reason: script.stopReason } : {}),
          },
        ],
        usage,
      }),
    );
    return;
  }
  const base = { id: "chatcmpl-script", object: "chat.completion.chunk", created: 1, model };
  const deltas: Record<string, unknown>[] = [{ role: "assistant", content: "" }];
  for (const piece of script.reasoning ?? []) deltas.push({ reasoning_content: piece });
  for (const piece of script.text ?? []) deltas.push({ content: piece });
  (script.toolCalls ?? []).forEach((call, index) => {
    deltas.push({
      tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }],
    });
    for (const piece of call.pieces) deltas.push({ tool_calls: [{ index, function: { arguments: piece } }] });
  });
  res.writeHead(200, { "content-type": "text/event-stream" });
  if (script.breakAfter !== undefined) {
    const kept = deltas.slice(0, script.breakAfter);
    kept.forEach((delta, i) => {
      const event = `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;
      // The connection is destroyed once the last kept event is written out.
      res.write(event, i === kept.length - 1 ? () => res.destroy() : undefined);
    });
    if (kept.length === 0) res.destroy();
    return;
  }
  let textIndex = 0;
  for (const delta of deltas) {
    const logprobs =
      withLogprobs && typeof delta.content === "string" && delta.content !== ""
        ? { logprobs: { content: [tokenLogprob(delta.content, textIndex++)] } }
        : {};
    res.write(
      `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: null, ...logprobs }] })}\n\n`,
    );
  }
  const last = {
    index: 0,
    delta: {},
    finish_reason: finish,
    ...(script.stopReason ? { stop_reason: script.stopReason } : {}),
  };
  res.write(`data: ${JSON.stringify({ ...base, choices: [last] })}\n\n`);
  res.write(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
  res.end("data: [DONE]\n\n");
}
