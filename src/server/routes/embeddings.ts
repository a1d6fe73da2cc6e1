/**
 * `POST /v1/embeddings`: validate, route (the chat router: alias, exact
 * name, `prefix/*`, `default_model`; the model's strategy picks the
 * deployment; no retries), call the provider's optional `embed`, answer
 * with its body (an OpenAI-compatible upstream's bytes unchanged), and
 * queue an {@link EmbeddingExchange} for `llm_relay_embeddings`. Follows
 * OpenAI's Embeddings API (https://platform.openai.com/docs/api-reference/embeddings/create).
 * Another protocol's embeddings routes (Ollama's `/api/embed`, `/api/embeddings`) run the
 * same core through {@link registerEmbeddingsRoute} with their own {@link EmbeddingsFace}.
 *
 * Answers: 400 naming the field for an invalid body, 404 `model_not_found`,
 * 400 `embeddings_not_supported` for a provider without embeddings, the
 * provider's RelayError otherwise (502 unreachable, 504 timeout, the
 * upstream's own status), 503 `server_shutting_down` when a stop cancels it.
 */
import { performance } from "node:perf_hooks";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { deploymentPrices, exchangeCostUsd } from "../../catalog/cost.js";
import {
  countEmbeddingInputTokens,
  embeddingInputCount,
  validateEmbeddingRequest,
  type EmbeddingRequest,
} from "../../protocol/embeddings.js";
import { errors } from "../../protocol/error-codes.js";
import { RelayError, serverShuttingDown, toRelayError } from "../../protocol/errors.js";
import type { EmbeddingResult } from "../../providers/types.js";
import type { EmbeddingExchange } from "../../recording/types.js";
import { newUlid } from "../../recording/ulid.js";
import { startTime } from "../../exchange/start-clock.js";
import { deploymentLabel, type Route } from "../../routing/router.js";
import type { ServerContext } from "../context.js";
import { watchClient } from "../in-flight.js";
import { DEPLOYMENT_HEADER } from "../../exchange/exchange.js";
import { exchangeAccount } from "../admission.js";
import { idempotentRoute } from "../idempotency.js";
import { logEmbeddingLine } from "../../logging/exchange-line.js";
import { SHUTDOWN_REASON } from "../../exchange/outcome.js";
import { errorBodyFor } from "../errors.js";

/** Registers `POST /v1/embeddings`. */
export function registerEmbeddings(app: FastifyInstance, ctx: ServerContext): void {
  registerEmbeddingsRoute(app, ctx, "/v1/embeddings", OPENAI_EMBEDDINGS);
}

/**
 * One protocol's face of the embeddings core: how its body becomes OpenAI's
 * embeddings request, and how the provider's answer (an OpenAI `list`) becomes
 * its answer. Errors take the route's shape (`errorBodyFor`, server/errors.ts).
 */
export interface EmbeddingsFace {
  /**
   * The OpenAI embeddings request of the client's body.
   * @throws RelayError 400 naming the field
   */
  parse(body: unknown): EmbeddingRequest;
  /**
   * The 200 answer's body (JSON text).
   * @param elapsedMs from the request's start to now, in ms
   * @throws RelayError (e.g. 502 `upstream_invalid_response`) when the result cannot be answered with
   */
  answer(result: EmbeddingResult, body: EmbeddingRequest, elapsedMs: number): string;
}

/** OpenAI's own face: the body validated as it is, the upstream's answer unchanged. */
const OPENAI_EMBEDDINGS: EmbeddingsFace = {
  parse: validateEmbeddingRequest,
  answer: (result) => result.rawBody,
};

/**
 * Registers `POST path` on the embeddings core (with `Idempotency-Key` handling,
 * src/server/idempotency.ts: whole answers are kept by its `onSend` hook).
 * @param options.billed books usage and applies rate limits (admission) on a route admission does not know by name
 */
export function registerEmbeddingsRoute(
  app: FastifyInstance,
  ctx: ServerContext,
  path: string,
  face: EmbeddingsFace,
  options: { billed?: boolean } = {},
): void {
  const route = idempotentRoute(ctx, (request, reply) => handleEmbeddings(ctx, face, request, reply));
  app.post(path, { onSend: route.onSend, ...(options.billed ? { config: { billed: true } } : {}) }, route.handler);
}

/** 400 for a model whose provider has no embeddings. */
export function embeddingsNotSupported(model: string, provider: string): RelayError {
  return errors.embeddingsNotSupported(
    `The model '${model}' is served by a '${provider}' deployment, which does not support embeddings (openai-compatible, vllm, lmstudio and ollama do).`,
    { param: "model" },
  );
}

/** How the exchange ended, for its record. */
interface Outcome {
  status: EmbeddingExchange["status"];
  httpStatus: number;
  error: string | null;
}

async function handleEmbeddings(
  ctx: ServerContext,
  face: EmbeddingsFace,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  let body: EmbeddingRequest;
  try {
    body = face.parse(request.body);
  } catch (error) {
    const relayError = toRelayError(error);
    ctx.logger.info(
      { id: request.id, status: relayError.status, outcome: "rejected", error: relayError.message },
      "embeddings",
    );
    request.relayLogged = true;
    throw error;
  }
  const { ms: startedAt, us: startedAtUs } = startTime();
  // The id is made now, with the start: made after the upstream's answer, the monotonic ULID factory could have moved
  // on past `startedAt` (other exchanges made ids meanwhile), and the id's time would not be the record's datetime_utc.
  const id = newUlid(startedAt);
  const t0 = performance.now();
  const watch = watchClient(ctx.inFlight, reply, {
    id,
    model: body.model,
    protocol: "embeddings",
    tenant: request.tenant?.tenantId ?? null,
    startedAt,
    stream: false,
  });
  const signal = watch.signal;
  let route: Route | null = null;
  let result: EmbeddingResult | null;
  let outcome: Outcome;
  try {
    const resolved = ctx.router.resolve(body.model);
    route = ctx.router.pick(resolved) ?? resolved;
    const provider = ctx.providers.get(route.deployment);
    if (!provider.embed) throw embeddingsNotSupported(body.model, route.deployment.provider);
    result = await provider.embed({ body: { ...body, model: route.upstreamModel }, signal, requestId: request.id });
    if (signal.aborted) throw signal.reason;
    const answer = face.answer(result, body, performance.now() - t0);
    reply.code(200).header("content-type", "application/json").headers(routeHeaders(route)).send(answer);
    outcome = { status: "ok", httpStatus: 200, error: null };
  } catch (error) {
    const { answer, failed } = failure(error, signal);
    outcome = failed;
    result = null;
    if (!reply.sent && !reply.raw.headersSent)
      reply
        .code(failed.httpStatus)
        .headers(answer.headers)
        .headers(routeHeaders(route))
        .send(errorBodyFor(request.url, answer));
  } finally {
    watch.end();
  }
  const record = embeddingExchange({
    id,
    requestId: request.id,
    startedAt,
    startedAtUs,
    durationMs: Math.round(performance.now() - t0),
    body,
    route,
    result,
    outcome,
  });
  Object.assign(record, exchangeAccount(request)); // tenant, key and ledger booking (admission.ts)
  logEmbeddingLine(ctx.logger, record); // at the end of the answer, before the record is queued
  ctx.recorder.enqueueEmbedding(record);
  request.relayLogged = true;
}

/** `x-llm-relay-deployment` of the deployment that was called (none before routing succeeded). */
function routeHeaders(route: Route | null): Record<string, string> {
  if (!route) return {};
  const label = deploymentLabel(route);
  return { [DEPLOYMENT_HEADER]: /^[\x20-\x7e]*$/.test(label) ? label : encodeURIComponent(label) };
}

/** The error to answer with and the outcome to record: a stop cancels with 503, a client gone with 499. */
function failure(error: unknown, signal: AbortSignal): { answer: RelayError; failed: Outcome } {
  const cancelled = signal.aborted;
  const shutdown = cancelled && signal.reason instanceof Error && signal.reason.message === SHUTDOWN_REASON;
  const answer = shutdown ? serverShuttingDown() : toRelayError(error);
  if (!cancelled) return { answer, failed: { status: "error", httpStatus: answer.status, error: answer.message } };
  const reason = signal.reason instanceof Error ? signal.reason.message : "cancelled";
  return { answer, failed: { status: "cancelled", httpStatus: shutdown ? 503 : 499, error: reason } };
}

/** What {@link embeddingExchange} is built from. */
interface ExchangeParts {
  id: string;
  requestId: string;
  startedAt: number;
  startedAtUs: number;
  durationMs: number;
  body: EmbeddingRequest;
  route: Route | null;
  result: EmbeddingResult | null;
  outcome: Outcome;
}

/**
 * The record of one exchange: input tokens as the upstream reported them,
 * else counted here (token ids exactly, texts with gpt-tokenizer: flagged
 * as estimated); null when no answer came. The cost uses the deployment's
 * `input_cost_per_mtok`, else the catalog's input price (0 for local
 * providers, null when unpriced).
 */
function embeddingExchange({
  id,
  requestId,
  startedAt,
  startedAtUs,
  durationMs,
  body,
  route,
  result,
  outcome,
}: ExchangeParts): EmbeddingExchange {
  const counted = result && result.promptTokens === null ? countEmbeddingInputTokens(body.input) : null;
  const inputTokens = result ? (result.promptTokens ?? counted!.tokens) : null;
  const provider = route?.deployment.provider ?? null;
  const deployment = route ? deploymentLabel(route) : null;
  const upstreamModel = route?.upstreamModel ?? null;
  let costUsd: number | null = null;
  try {
    costUsd = exchangeCostUsd({
      provider,
      deployment,
      upstreamModel,
      prices: route ? deploymentPrices(route.deployment) : null,
      usage: inputTokens === null ? null : { input: inputTokens, output: 0 },
    });
  } catch {
    // A broken catalog file must not cost the record itself.
  }
  return {
    id,
    requestId,
    startedAt,
    startedAtUs,
    durationMs,
    requestedModel: body.model,
    provider,
    deployment,
    upstreamModel,
    inputCount: embeddingInputCount(body.input),
    inputTokens,
    usageEstimated: counted ? counted.estimated : (result?.usageEstimated ?? false),
    dimensions: result?.dimensions ?? null,
    httpStatus: outcome.httpStatus,
    status: outcome.status,
    error: outcome.error,
    costUsd,
    tenantId: null,
    keyId: null,
  };
}
