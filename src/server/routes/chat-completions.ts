/**
 * `POST /v1/chat/completions`: validate, route, call the provider (through
 * the dispatcher: retries, fallbacks, balancing), answer (JSON or SSE),
 * hand the exchange to the recorder. Follows OpenAI's Chat Completions API
 * (https://platform.openai.com/docs/api-reference/chat/create).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Exchange, clientOf } from "../../exchange/exchange.js";
import { openStream } from "../../exchange/open-stream.js";
import { failedOutcome, type ExchangeOutcome } from "../../exchange/outcome.js";
import { completedOutcome, dispatchExchange, type ExchangeAttempts } from "../../exchange/run.js";
import { toRelayError } from "../../protocol/errors.js";
import type { ServerContext } from "../context.js";
import { watchClient } from "../in-flight.js";
import { exchangeAccount } from "../admission.js";
import { idempotentRoute, type IdempotencyClaim } from "../idempotency.js";
import { streamToClient } from "../stream-response.js";
import { logExchangeLine } from "../../logging/exchange-line.js";
import { validateChatRequest } from "../validate-request.js";

/** Header carrying the proxy's own time on non-streaming answers, in ms. */
export const OVERHEAD_HEADER = "x-llm-relay-overhead-ms";

/** Registers the route (with `Idempotency-Key` handling, src/server/idempotency.ts). */
export function registerChatCompletions(app: FastifyInstance, ctx: ServerContext): void {
  const route = idempotentRoute(ctx, (request, reply, claim) => handleChatCompletion(ctx, request, reply, claim));
  app.post("/v1/chat/completions", { onSend: route.onSend }, route.handler);
}

async function handleChatCompletion(
  ctx: ServerContext,
  request: FastifyRequest,
  reply: FastifyReply,
  claim: IdempotencyClaim | null,
): Promise<void> {
  let body;
  try {
    body = validateChatRequest(request.body);
  } catch (error) {
    const relayError = toRelayError(error);
    ctx.logger.info(
      { id: request.id, status: relayError.status, outcome: "rejected", error: relayError.message },
      "chat.completion",
    );
    request.relayLogged = true;
    throw error;
  }
  const exchange = new Exchange(request.id, body, request.rawBody);
  exchange.client = clientOf(request.headers["user-agent"]);
  exchange.account = exchangeAccount(request);
  const watch = watchClient(ctx.inFlight, reply, {
    id: exchange.id,
    model: body.model,
    protocol: "chat",
    tenant: request.tenant?.tenantId ?? null,
    startedAt: exchange.startedAt,
    stream: exchange.stream,
  });
  const signal = watch.signal;
  let outcome: ExchangeOutcome;
  const attempts: ExchangeAttempts = {
    exchange,
    signal,
    callFor: (target) => {
      const json = exchange.upstreamJson(target.route);
      return {
        body: exchange.upstreamBody(target.route),
        signal,
        requestId: request.id,
        ...(json === undefined ? {} : { json }),
      };
    },
  };
  try {
    const deps = { router: ctx.router, providers: ctx.providers };
    if (exchange.stream) {
      const opened = await dispatchExchange(deps, attempts, (target, call) => openStream(target.provider, call));
      outcome = await streamToClient(exchange, opened, signal, reply, claim?.stream);
    } else {
      const answered = await dispatchExchange(deps, attempts, (target, call) => target.provider.complete(call));
      outcome = completedOutcome(answered, signal);
      sendCompletion(exchange, answered.value.rawBody, reply);
    }
  } catch (error) {
    // Failed before any byte was sent: a stop answers 503 server_shutting_down (the client may retry elsewhere), a client gone 499.
    const failed = failedOutcome(error, signal, { received: null, statusSent: false });
    outcome = failed.outcome;
    if (!reply.sent && !reply.raw.headersSent) {
      // After a client disconnect nobody reads this; answering still completes Fastify's lifecycle.
      reply
        .code(outcome.httpStatus)
        .headers(failed.answer.headers)
        .headers(exchange.routingHeaders())
        .send(failed.answer.toBody());
    }
  } finally {
    watch.end();
  }
  // The recorder assembles, observes and — unless recording is off — writes it.
  const pending = exchange.toPending(outcome);
  logExchangeLine(ctx.logger, pending); // at the end of the answer, before the record is queued
  ctx.recorder.enqueue(pending);
  request.relayLogged = true;
}

/** Sends a non-streaming answer: the upstream's body as it came, with the overhead and routing headers. */
function sendCompletion(exchange: Exchange, rawBody: string, reply: FastifyReply): void {
  reply
    .code(200)
    .header("content-type", "application/json")
    .header(OVERHEAD_HEADER, exchange.overheadMs().toFixed(3))
    .headers(exchange.routingHeaders())
    .send(rawBody);
}
