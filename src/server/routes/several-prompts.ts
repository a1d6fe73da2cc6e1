/**
 * Several prompts in one legacy completions request (`prompt: ["a", "b"]`,
 * https://platform.openai.com/docs/api-reference/completions/create): each prompt is one exchange, sent to the
 * `POST /v1/completions` route itself (`app.inject`, with the client's headers, so each is admitted, routed, billed
 * and recorded like a request of one prompt, with the request id `<id>.<i>` and, when the client sent one, the
 * `Idempotency-Key` `<key>.<i>`), one after the other. `choices[i]` (`index: i`) answers `prompt[i]`.
 *
 * Not streamed: the answers are joined into one `text_completion` (`protocol/completions/several-prompts.ts`).
 * Streamed: each prompt's events are relayed as they arrive, re-indexed and under the first prompt's id, the usage
 * added up into one last event (with `stream_options.include_usage`), then `data: [DONE]`.
 * The first prompt that fails ends the request: with its own status and error when nothing was sent yet, else as
 * an in-band `data: {"error": …}` event (no `[DONE]`), as a broken chat stream ends.
 */
import { once } from "node:events";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { CompletionsRequest } from "../../protocol/completions/completions-request.js";
import type { TextCompletion, TextCompletionUsage } from "../../protocol/completions/from-chat.js";
import { joinTextCompletions } from "../../protocol/completions/several-prompts.js";
import { toRelayError } from "../../protocol/errors.js";
import { sseData } from "../../protocol/sse-data.js";
import { IDEMPOTENCY_KEY_HEADER } from "../idempotency.js";
import { headerValues, SSE_HEADERS } from "../stream-response.js";

/** Request headers not passed to the exchange of each prompt: the body's framing, and the ids that must differ. */
const NOT_FORWARDED = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "x-request-id",
  IDEMPOTENCY_KEY_HEADER,
]);

/** One request of several prompts: where to send each, and the client's body and headers. */
export interface SeveralPrompts {
  app: FastifyInstance;
  /** The route's path (`/v1/completions`). */
  path: string;
  request: FastifyRequest;
  reply: FastifyReply;
  /** The client's body as sent. */
  body: Record<string, unknown>;
  /** The same body as validated. */
  parsed: CompletionsRequest;
  prompts: string[];
}

/** Answers a request of several prompts (see the module comment). */
export async function answerSeveralPrompts(several: SeveralPrompts): Promise<void> {
  if (several.parsed.stream === true) await streamPrompts(several);
  else await joinPrompts(several);
}

/** The request headers of prompt `index`'s exchange. */
function headersFor(request: FastifyRequest, index: number): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers))
    if (value !== undefined && !NOT_FORWARDED.has(name)) headers[name] = value;
  headers["content-type"] = "application/json";
  headers["x-request-id"] = `${request.id}.${index}`;
  const idempotencyKey = request.headers[IDEMPOTENCY_KEY_HEADER];
  if (typeof idempotencyKey === "string") headers[IDEMPOTENCY_KEY_HEADER] = `${idempotencyKey}.${index}`;
  return headers;
}

async function joinPrompts({ app, path, request, reply, body, prompts }: SeveralPrompts): Promise<void> {
  const answers: TextCompletion[] = [];
  for (const [index, prompt] of prompts.entries()) {
    const answer = await app.inject({
      method: "POST",
      url: path,
      headers: headersFor(request, index),
      payload: JSON.stringify({ ...body, prompt, stream: false }),
    });
    if (answer.statusCode !== 200) {
      await reply
        .code(answer.statusCode)
        .header("content-type", answer.headers["content-type"] ?? "application/json")
        .send(answer.body);
      return;
    }
    answers.push(JSON.parse(answer.body) as TextCompletion);
  }
  await reply
    .code(200)
    .header("content-type", "application/json")
    .send(JSON.stringify(joinTextCompletions(answers)));
}

async function streamPrompts({ app, path, request, reply, body, parsed, prompts }: SeveralPrompts): Promise<void> {
  const includeUsage = parsed.stream_options?.include_usage === true;
  const client = new AbortController();
  const res = reply.raw;
  const write = async (text: string): Promise<void> => {
    if (!res.write(text)) await once(res, "drain", { signal: client.signal });
  };
  const usage: TextCompletionUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  let head: Omit<TextCompletion, "choices" | "usage"> | null = null;
  let hijacked = false;
  try {
    for (const [index, prompt] of prompts.entries()) {
      const answer = await app.inject({
        method: "POST",
        url: path,
        headers: headersFor(request, index),
        payload: JSON.stringify({ ...body, prompt, stream: true, stream_options: { include_usage: true } }),
        payloadAsStream: true,
        signal: client.signal,
      });
      if (answer.statusCode !== 200) {
        let text = "";
        for await (const piece of answer.stream()) text += String(piece);
        if (!hijacked) {
          await reply
            .code(answer.statusCode)
            .header("content-type", answer.headers["content-type"] ?? "application/json")
            .send(text);
          return;
        }
        res.end(`data: ${text}\n\n`);
        return;
      }
      if (!hijacked) {
        hijacked = true;
        reply.hijack();
        res.once("close", () => client.abort());
        res.writeHead(200, { ...headerValues(reply.getHeaders()), ...SSE_HEADERS });
      }
      for await (const data of sseData(answer.stream())) {
        if (data === "[DONE]") continue;
        const event = JSON.parse(data) as TextCompletion | { error: unknown };
        if ("error" in event) {
          res.end(`data: ${data}\n\n`);
          return;
        }
        head ??= { id: event.id, object: event.object, created: event.created, model: event.model };
        if (event.choices.length === 0) {
          usage.prompt_tokens += event.usage?.prompt_tokens ?? 0;
          usage.completion_tokens += event.usage?.completion_tokens ?? 0;
          usage.total_tokens += event.usage?.total_tokens ?? 0;
          continue;
        }
        const choices = event.choices.map((choice) => ({ ...choice, index }));
        await write(`data: ${JSON.stringify({ ...head, choices })}\n\n`);
      }
    }
    if (includeUsage && head) await write(`data: ${JSON.stringify({ ...head, choices: [], usage })}\n\n`);
    res.end("data: [DONE]\n\n");
  } catch (error) {
    // The client left: the prompts' exchanges were aborted with it (and are recorded as cancelled).
    if (client.signal.aborted) return;
    if (!hijacked) throw error;
    res.end(`data: ${JSON.stringify(toRelayError(error).toBody())}\n\n`);
  }
}
