/**
 * OpenAI's Responses API (https://platform.openai.com/docs/api-reference/responses):
 * `POST /v1/responses` on the one inbound runner (`inbound-exchange.ts`)
 * with the Responses adapter, and `GET /v1/responses/{id}`: a recorded
 * exchange of the caller's tenant as a `response` object, rebuilt from the
 * recorded answer (the assembled chat completion), 404 `not_found` otherwise.
 */
import type { FastifyInstance } from "fastify";
import type { ChatCompletion } from "../../protocol/chat-completion.js";
import type { RecordedExchangeLookup } from "../../protocol/inbound.js";
import { responseFromCompletion, responseObject } from "../../protocol/responses/from-chat.js";
import { exchangeIdOf, responseNotFound } from "../../protocol/responses/previous-response.js";
import { responsesAdapter } from "../../protocol/responses/responses-adapter.js";
import type { ServerContext } from "../context.js";
import { registerInboundRoute } from "./inbound-exchange.js";
import { inboundContextOf } from "./record-lookup.js";

/** Registers `POST /v1/responses` and `GET /v1/responses/:id`. */
export function registerResponses(app: FastifyInstance, ctx: ServerContext): void {
  registerInboundRoute(app, ctx, "/v1/responses", responsesAdapter, (request) => inboundContextOf(ctx, request));

  app.get<{ Params: { id: string } }>("/v1/responses/:id", async (request) => {
    const id = exchangeIdOf(request.params.id);
    const found = id === null ? null : await inboundContextOf(ctx, request).lookupExchange(id);
    if (!found) throw responseNotFound(request.params.id, null);
    return recordedResponse(found);
  });
}

/**
 * The `response` object of a recorded exchange: from its completion when it
 * has one (`incomplete` when it was cut short or cancelled), else `failed`
 * with the recorded error.
 */
export function recordedResponse(found: RecordedExchangeLookup): Record<string, unknown> {
  const request = found.protocol === "responses" ? found.request : {};
  const response = found.response ?? {};
  const model =
    typeof found.request.model === "string"
      ? found.request.model
      : typeof response.model === "string"
        ? response.model
        : "";
  const info = { exchangeId: found.id, model, startedAt: found.startedAt, request };
  if (Array.isArray(response.choices) && response.choices.length > 0) {
    const object = responseFromCompletion(response as unknown as ChatCompletion, info);
    if (found.status === "ok") return object;
    return { ...object, status: "incomplete", incomplete_details: { reason: found.status } };
  }
  const recorded = typeof response.error === "object" && response.error !== null ? response.error : {};
  const { code, message } = recorded as { code?: unknown; message?: unknown };
  const error = {
    code: typeof code === "string" ? code : found.status,
    message: typeof message === "string" ? message : `The exchange ended '${found.status}' with no answer.`,
  };
  return responseObject(info, [], { status: "failed", incomplete_details: null, error }, null);
}
