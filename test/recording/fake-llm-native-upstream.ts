/**
 * The upstream of shared/fixtures/llm-native/README.md: a real HTTP server on
 * 127.0.0.1 speaking OpenAI's Chat Completions protocol
 * (https://platform.openai.com/docs/api-reference/chat), answering each request
 * with what a script says: text or tool calls, streamed (SSE chunks, usage in
 * the last chunk) or not, as the request asks.
 */
import http from "node:http";
import { listenOnLoopback } from "../helpers/loopback-server.js";
import { omit } from "../helpers/omit.js";

/** One answer: the assistant's text and/or tool calls (arguments JSON-encoded), and its usage (tokens). */
export interface NativeAnswer {
  content: string | null;
  toolCalls?: { id: string; name: string; arguments: string }[];
  usage: { prompt_tokens: number; completion_tokens: number };
}

/** A running fake. */
export interface NativeUpstream {
  /** e.g. `http://127.0.0.1:12345/v1` */
  baseUrl: string;
  /** The bodies received, in order. */
  requests: Record<string, unknown>[];
  close(): Promise<void>;
}

const MODEL = "relay-echo-upstream";
const CREATED = 1796000000;

/** Splits a text into ~4 chunks at word boundaries (one chunk for a short text). */
function chunksOf(text: string): string[] {
  const words = text.split(/(?<=\s)/u);
  const size = Math.max(1, Math.ceil(words.length / 4));
  const out: string[] = [];
  for (let i = 0; i < words.length; i += size) out.push(words.slice(i, i + size).join(""));
  return out.length > 0 ? out : [""];
}

/**
 * Starts the fake.
 * @param answer the answer to the n-th request (from 0) with its body
 */
export async function startNativeUpstream(
  answer: (body: Record<string, unknown>, n: number) => NativeAnswer,
): Promise<NativeUpstream> {
  const requests: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (raw += chunk));
    req.on("end", () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      const n = requests.length;
      requests.push(body);
      const a = answer(body, n);
      const id = `chatcmpl-native-${n}`;
      const finish = a.toolCalls && a.toolCalls.length > 0 ? "tool_calls" : "stop";
      const usage = { ...a.usage, total_tokens: a.usage.prompt_tokens + a.usage.completion_tokens };
      const toolCalls = a.toolCalls?.map((c, index) => ({
        index,
        id: c.id,
        type: "function",
        function: { name: c.name, arguments: c.arguments },
      }));
      if (body.stream === true) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        const send = (chunk: unknown) => res.write(`data: ${JSON.stringify(chunk)}\n\n`);
        const base = { id, object: "chat.completion.chunk", created: CREATED, model: MODEL };
        chunksOf(a.content ?? "").forEach((piece, i) => {
          send({
            ...base,
            choices: [
              {
                index: 0,
                delta: i === 0 ? { role: "assistant", content: piece } : { content: piece },
                finish_reason: null,
              },
            ],
          });
        });
        if (toolCalls)
          send({ ...base, choices: [{ index: 0, delta: { tool_calls: toolCalls }, finish_reason: null }] });
        send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: finish }], usage });
        res.end("data: [DONE]\n\n");
        return;
      }
      const message: Record<string, unknown> = { role: "assistant", content: a.content };
      if (toolCalls) message.tool_calls = toolCalls.map((call) => omit(call, "index"));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id,
          object: "chat.completion",
          created: CREATED,
          model: MODEL,
          choices: [{ index: 0, message, finish_reason: finish }],
          usage,
        }),
      );
    });
  });
  const listening = await listenOnLoopback(server);
  return { baseUrl: `http://127.0.0.1:${listening.port}/v1`, requests, close: () => listening.close() };
}
