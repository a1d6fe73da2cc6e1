/**
 * `POST /v1/chat/completions`: validate, route, call the provider (through
 * the dispatcher: retries, fallbacks, balancing), answer (JSON or SSE),
 * hand the exchange to the recorder. Follows OpenAI's Chat Completions API
 * (https://platform.openai.com/docs/api-reference/chat/create).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { RelayError, serverShuttingDown, toRelayError } from "../../protocol/errors.js";
import type { ProviderCall, ProviderCompletion } from "../../providers/types.js";
import { dispatch, type AttemptTarget } from "../../routing/dispatcher.js";
import type { Route } from "../../routing/router.js";
import type { ServerContext } from "../context.js";
import { Exchange, type ExchangeOutcome } from "../exchange.js";
import { exchangeAccount } from "../admission.js";
import { idempotentRoute, type IdempotencyClaim } from "../idempotency.js";
import { SHUTDOWN_REASON } from "../in-flight.js";
import { openStream, streamToClient } from "../stream-response.js";
import { validateChatRequest } from "../validate-request.js";

/** Header carrying the proxy's own time on non-streaming answers, in ms. */
export const OVERHEAD_HEADER = "x-llm-relay-overhead-ms";

/** Registers the route (with `Idempotency-Key` handling, src/server/idempotency.ts). */
export function registerChatCompletions(app: FastifyInstance, ctx: ServerContext): void {
  const route = idempotentRoute(ctx, (request, reply, claim) => handleChatCompletion(ctx, request, reply, claim));
  app.post("/v1/chat/completions", { onSend: route.onSend }, route.handler);
}

async function handleChatCompletion(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply, claim: IdempotencyClaim | null): Promise<void> {
  let body;
  try {
    body = validateChatRequest(request.body);
  } catch (error) {
    const relayError = toRelayError(error);
    ctx.logger.info({ id: request.id, status: relayError.status, outcome: "rejected", error: relayError.message }, "chat.completion");
    request.relayLogged = true;
    throw error;
  }
  const exchange = new Exchange(request.id, body, request.rawBody);
  exchange.account = exchangeAccount(request);
  const controller = new AbortController();
  const end = ctx.inFlight.begin(controller);
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort(new Error("client disconnected"));
  };
  reply.raw.once("close", onClose);
  let outcome: ExchangeOutcome;
  const signal = controller.signal;
  const callFor = (target: AttemptTarget): ProviderCall => {
    const json = exchange.upstreamJson(target.route);
    return { body: exchange.upstreamBody(target.route), signal, requestId: request.id, ...(json === undefined ? {} : { json }) };
  };
  const onAttempt = (route: Route) => {
    exchange.route = route;
  };
  try {
    const deps = { router: ctx.router, providers: ctx.providers };
    const base = { model: exchange.body.model, signal, clock: exchange, attempts: exchange.attempts, onAttempt };
    if (exchange.stream) {
      const opened = await dispatch(deps, { ...base, run: (target) => openStream(target.provider, callFor(target)) });
      outcome = await streamToClient(exchange, opened, signal, reply, claim?.stream);
    } else {
      const answered = await dispatch(deps, { ...base, run: (target) => target.provider.complete(callFor(target)) });
      answered.finish(signal.aborted ? signal.reason : undefined);
      outcome = completeToClient(exchange, answered.value, signal, reply);
    }
  } catch (error) {
    const failed = failure(error, signal);
    outcome = failed.outcome;
    if (!reply.sent && !reply.raw.headersSent) {
      // After a client disconnect nobody reads this; answering still completes Fastify's lifecycle.
      reply.code(outcome.httpStatus).headers(failed.answer.headers).headers(exchange.routingHeaders()).send(failed.answer.toBody());
    }
  } finally {
    reply.raw.off("close", onClose);
    end();
  }
  // The recorder assembles, logs (one line per exchange), observes and — unless recording is off — writes it.
  ctx.recorder.enqueue(exchange.toPending(outcome));
  request.relayLogged = true;
}

function completeToClient(exchange: Exchange, answer: ProviderCompletion, signal: AbortSignal, reply: FastifyReply): ExchangeOutcome {
  const { rawBody, completion, usageEstimated } = answer;
  if (signal.aborted) throw signal.reason;
  reply
    .code(200)
    .header("content-type", "application/json")
    .header(OVERHEAD_HEADER, exchange.overheadMs().toFixed(3))
    .headers(exchange.routingHeaders())
    .send(rawBody);
  return { status: "ok", httpStatus: 200, output: { kind: "completion", body: completion ?? rawBody, usageEstimated }, errorJson: null, error: null, errorClass: null };
}

/**
 * The outcome of an exchange that failed before any byte was sent, and the
 * error to answer with. A stop cancels with 503 `server_shutting_down`
 * (the client may retry elsewhere); a client that went away gets 499.
 */
function failure(error: unknown, signal: AbortSignal): { outcome: ExchangeOutcome; answer: RelayError } {
  const cancelled = signal.aborted;
  const shutdown = cancelled && signal.reason instanceof Error && signal.reason.message === SHUTDOWN_REASON;
  const answer = shutdown
    ? serverShuttingDown()
    : toRelayError(error);
  const reason = signal.reason instanceof Error ? signal.reason.message : "cancelled";
  return {
    answer,
    outcome: {
      status: cancelled ? "cancelled" : "error",
      httpStatus: shutdown ? 503 : cancelled ? 499 : answer.status,
      output: null,
      // The client gets the OpenAI error body; the record also keeps an invalid upstream answer whole.
      errorJson: answer.toRecordJson(),
      error: cancelled ? reason : answer.message,
      errorClass: cancelled ? null : answer.errorClass,
      promptTokens: cancelled ? null : answer.promptTokens,
    },
  };
}
