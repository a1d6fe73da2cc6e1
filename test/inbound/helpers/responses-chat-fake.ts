/**
 * A scripted Chat Completions upstream on loopback for the Responses
 * tests: each request gets the next scripted answer (text, reasoning as
 * `reasoning_content`, tool calls, finish reason, usage), streamed as
 * `chat.completion.chunk`s (the usage-only chunk when asked for, then
 * `[DONE]`) or as one `chat.completion`; `resetAfterChunks` breaks a stream
 * (the connection closed mid-body) after that many chunks. Every request body is kept.
 */
import http from "node:http";
import { listenOnLoopback } from "../../helpers/loopback-server.js";

/** One scripted answer. */
export interface ChatAnswer {
  text?: string;
  reasoning?: string;
  toolCalls?: { id: string; name: string; arguments: string }[];
  finish?: string;
  usage?: Record<string, unknown>;
  /** Streams only: reset the connection after this many chunks. */
  resetAfterChunks?: number;
}

/** The fake. */
export interface ChatFake {
  /** e.g. `http://127.0.0.1:1234/v1` */
  baseUrl: string;
  /** The bodies received, in order. */
  requests: Record<string, unknown>[];
  /** Queues answers for the next requests (the last one repeats). */
  answer(...answers: ChatAnswer[]): void;
  close(): Promise<void>;
}

/** The usage the fake reports unless an answer gives its own. */
export const FAKE_USAGE = {
  prompt_tokens: 40,
  completion_tokens: 9,
  total_tokens: 49,
  prompt_tokens_details: { cached_tokens: 32 },
  completion_tokens_details: { reasoning_tokens: 4 },
};

/** Starts the fake on 127.0.0.1. */
export async function startChatFake(): Promise<ChatFake> {
  const requests: Record<string, unknown>[] = [];
  let queue: ChatAnswer[] = [{ text: "Hello there." }];
  const next = (): ChatAnswer => (queue.length > 1 ? queue.shift()! : queue[0]!);
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (data: Buffer) => (raw += data.toString("utf8")));
    req.on("end", () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      requests.push(body);
      const answer = next();
      const model = String(body.model);
      if (body.stream === true) streamAnswer(res, model, answer, body);
      else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(completionOf(model, answer)));
      }
    });
  });
  const listening = await listenOnLoopback(server);
  return {
    baseUrl: `http://127.0.0.1:${listening.port}/v1`,
    requests,
    answer: (...answers) => {
      queue = answers;
    },
    close: () => listening.close(),
  };
}

function completionOf(model: string, answer: ChatAnswer): Record<string, unknown> {
  const message: Record<string, unknown> = { role: "assistant", content: answer.text ?? null };
  if (answer.reasoning) message.reasoning_content = answer.reasoning;
  if (answer.toolCalls) {
    message.tool_calls = answer.toolCalls.map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  return {
    id: "chatcmpl-fake",
    object: "chat.completion",
    created: 1796469300,
    model,
    choices: [{ index: 0, message, finish_reason: answer.finish ?? (answer.toolCalls ? "tool_calls" : "stop") }],
    usage: answer.usage ?? FAKE_USAGE,
  };
}

function streamAnswer(
  res: http.ServerResponse,
  model: string,
  answer: ChatAnswer,
  body: Record<string, unknown>,
): void {
  const base = { id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1796469300, model };
  const chunks: Record<string, unknown>[] = [];
  const delta = (d: Record<string, unknown>, finish: string | null = null) =>
    chunks.push({ ...base, choices: [{ index: 0, delta: d, finish_reason: finish }] });
  delta({ role: "assistant", content: null });
  for (const piece of pieces(answer.reasoning ?? "")) delta({ reasoning_content: piece });
  for (const piece of pieces(answer.text ?? "")) delta({ content: piece });
  (answer.toolCalls ?? []).forEach((call, index) => {
    const half = Math.ceil(call.arguments.length / 2);
    delta({
      tool_calls: [
        {
          index,
          id: call.id,
          type: "function",
          function: { name: call.name, arguments: call.arguments.slice(0, half) },
        },
      ],
    });
    delta({ tool_calls: [{ index, function: { arguments: call.arguments.slice(half) } }] });
  });
  delta({}, answer.finish ?? (answer.toolCalls ? "tool_calls" : "stop"));
  const options = body.stream_options as { include_usage?: boolean } | undefined;
  if (options?.include_usage) chunks.push({ ...base, choices: [], usage: answer.usage ?? FAKE_USAGE });
  res.writeHead(200, { "content-type": "text/event-stream" });
  chunks.forEach((chunk, index) => {
    if (answer.resetAfterChunks !== undefined && index >= answer.resetAfterChunks) return;
    res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  });
  if (answer.resetAfterChunks !== undefined) {
    // Close the connection (FIN, after the written chunks) in the middle of the chunked body.
    res.socket?.end();
    return;
  }
  res.end("data: [DONE]\n\n");
}

/** Words of a text, each with the whitespace that follows it. */
function pieces(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}
