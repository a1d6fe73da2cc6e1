/**
 * OpenAI's legacy completions inbound (`POST /v1/completions`,
 * https://platform.openai.com/docs/api-reference/completions) on the one inbound exchange runner, with the
 * adapter of `protocol/completions/`. Billed like chat (`config.billed`). Errors in OpenAI's shape.
 *
 * Several prompts (`prompt: ["a", "b"]`) are several exchanges: each prompt is sent to this same route on its own
 * (`app.inject`, with the client's headers, so each is admitted, routed and recorded like a request of one prompt,
 * with the request id `<id>.<i>` and, when the client sent one, the `Idempotency-Key` `<key>.<i>`), one after the
 * other, and the answers are joined into `choices[i]` (`index: i`).
 * Streamed, such a request gets each choice whole once every prompt is answered; the first prompt that fails fails
 * the request with its own status and error.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { parseCompletionsRequest, promptsOf } from "../../protocol/completions/completions-request.js";
import { completionsAdapter } from "../../protocol/completions/completions-adapter.js";
import type { TextCompletion } from "../../protocol/completions/from-chat.js";
import { joinTextCompletions, textCompletionStream } from "../../protocol/completions/several-prompts.js";
import type { ServerContext } from "../context.js";
import { IDEMPOTENCY_KEY_HEADER } from "../idempotency.js";
import { registerInboundRoute } from "./inbound-exchange.js";
import { inboundContextOf } from "./record-lookup.js";

/** The route's path. */
const COMPLETIONS_PATH = "/v1/completions";

/** Request headers not passed to the exchange of each prompt: the body's framing, and the ids that must differ. */
const NOT_FORWARDED = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "x-request-id",
  IDEMPOTENCY_KEY_HEADER,
]);

/** Registers `POST /v1/completions`. */
export function registerCompletions(app: FastifyInstance, ctx: ServerContext): void {
  registerInboundRoute(app, ctx, COMPLETIONS_PATH, completionsAdapter, (request) => inboundContextOf(ctx, request), {
    config: { billed: true },
    preHandler: (request, reply) => answerSeveralPrompts(app, request, reply),
  });
}

/**
 * Answers a request of several prompts (see the module comment), or does nothing for one of one prompt (the
 * exchange runner answers it).
 * @throws RelayError 400 naming the field for an invalid body
 */
async function answerSeveralPrompts(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const body = request.body as Record<string, unknown> | null;
  if (body === null || typeof body !== "object" || !Array.isArray(body.prompt) || body.prompt.length < 2) return;
  const parsed = parseCompletionsRequest(body);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers))
    if (value !== undefined && !NOT_FORWARDED.has(name)) headers[name] = value;
  const idempotencyKey = request.headers[IDEMPOTENCY_KEY_HEADER];
  const answers: TextCompletion[] = [];
  for (const [index, prompt] of promptsOf(parsed).entries()) {
    const answer = await app.inject({
      method: "POST",
      url: COMPLETIONS_PATH,
      headers: {
        ...headers,
        "content-type": "application/json",
        "x-request-id": `${request.id}.${index}`,
        ...(typeof idempotencyKey === "string" ? { [IDEMPOTENCY_KEY_HEADER]: `${idempotencyKey}.${index}` } : {}),
      },
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
  const joined = joinTextCompletions(answers);
  if (parsed.stream === true)
    await reply
      .code(200)
      .header("content-type", "text/event-stream; charset=utf-8")
      .send(textCompletionStream(joined, parsed.stream_options?.include_usage === true));
  else await reply.code(200).header("content-type", "application/json").send(JSON.stringify(joined));
}
