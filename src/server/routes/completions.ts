/**
 * OpenAI's legacy completions inbound (`POST /v1/completions`,
 * https://platform.openai.com/docs/api-reference/completions) on the one inbound exchange runner, with the
 * adapter of `protocol/completions/`. Billed like chat (`config.billed`). Errors in OpenAI's shape. A request of
 * several prompts is answered by the route's `preHandler` as one exchange per prompt (`several-prompts.ts`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { parseCompletionsRequest, promptsOf } from "../../protocol/completions/completions-request.js";
import { completionsAdapter } from "../../protocol/completions/completions-adapter.js";
import type { ServerContext } from "../context.js";
import { registerInboundRoute } from "./inbound-exchange.js";
import { inboundContextOf } from "./record-lookup.js";
import { answerSeveralPrompts } from "./several-prompts.js";

/** The route's path. */
const COMPLETIONS_PATH = "/v1/completions";

/** Registers `POST /v1/completions`. */
export function registerCompletions(app: FastifyInstance, ctx: ServerContext): void {
  registerInboundRoute(app, ctx, COMPLETIONS_PATH, completionsAdapter, (request) => inboundContextOf(ctx, request), {
    config: { billed: true },
    preHandler: (request, reply) => severalPrompts(app, request, reply),
  });
}

/**
 * Answers a request of several prompts, or does nothing for one of one prompt (the exchange runner answers it).
 * @throws RelayError 400 naming the field for an invalid body
 */
async function severalPrompts(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const body = request.body as Record<string, unknown> | null;
  if (body === null || typeof body !== "object" || !Array.isArray(body.prompt) || body.prompt.length < 2) return;
  const parsed = parseCompletionsRequest(body);
  await answerSeveralPrompts({ app, path: COMPLETIONS_PATH, request, reply, body, parsed, prompts: promptsOf(parsed) });
}
