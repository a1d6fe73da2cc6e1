/**
 * Anthropic's Messages API inbound (https://docs.anthropic.com/en/api/messages):
 * `POST /v1/messages` (also with Claude Code's `?beta=true`) on the one
 * inbound exchange runner, and `POST /v1/messages/count_tokens`
 * (https://docs.anthropic.com/en/api/messages-count-tokens). Errors are
 * answered in Anthropic's shape (`server/errors.ts` knows these paths).
 */
import type { FastifyInstance } from "fastify";
import { countMessageTokens } from "../../protocol/anthropic/count-tokens.js";
import { messagesAdapter } from "../../protocol/anthropic/messages-adapter.js";
import type { ServerContext } from "../context.js";
import { registerInboundRoute } from "./inbound-exchange.js";
import { inboundContextOf } from "./record-lookup.js";

/** Registers `POST /v1/messages` and `POST /v1/messages/count_tokens`. */
export function registerMessages(app: FastifyInstance, ctx: ServerContext): void {
  registerInboundRoute(app, ctx, "/v1/messages", messagesAdapter, (request) => inboundContextOf(ctx, request));
  app.post("/v1/messages/count_tokens", (request, reply) => {
    // 400 naming the field for an invalid body; 404 for a model no deployment serves (as /v1/messages would answer).
    const counted = countMessageTokens(request.body);
    ctx.router.resolve(counted.model);
    return reply.code(200).send(counted.answer);
  });
}
