/**
 * One exchange in an inbound protocol other than Chat Completions
 * (Anthropic Messages, OpenAI Responses, Gemini), on the same core as
 * `POST /v1/chat/completions`: admission, idempotency, the dispatcher
 * (routing, retries, fallbacks, balancing), the recorder. The protocol's
 * adapter (`protocol/inbound.ts`) validates the request and translates it
 * to chat; each attempt then goes either to a deployment that speaks the
 * protocol natively, as the client's own bytes (`ChatProvider.native`,
 * `exchange/native.ts`), answered byte for byte, or to any other as the
 * chat translation, its answer encoded back into the protocol.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from "fastify";
import { Exchange, clientOf } from "../../exchange/exchange.js";
import { nativeCall, nativeEndpointFor, type NativeRequest } from "../../exchange/native.js";
import { openNativeStream, openStream, type OpenedStream } from "../../exchange/open-stream.js";
import { failedOutcome, okOutcome, type ExchangeOutcome } from "../../exchange/outcome.js";
import { dispatchExchange, type ExchangeAttempts } from "../../exchange/run.js";
import type { ChatCompletion } from "../../protocol/chat-completion.js";
import { invalidRequest, toRelayError, upstreamInvalidResponse } from "../../protocol/errors.js";
import { nativeStreamErrorText } from "../../protocol/native-stream-error.js";
import {
  isNativeProtocol,
  type InboundAdapter,
  type InboundAnswerInfo,
  type InboundContext,
  type NativeProtocol,
  type ParsedInbound,
  type RawPrompt,
} from "../../protocol/inbound.js";
import { readCompletion } from "../../protocol/upstream-json.js";
import type { ChatProvider, ProviderCompletion } from "../../providers/types.js";
import type { Dispatched } from "../../routing/dispatcher.js";
import { countRequestPromptTokens } from "../../tokens/count.js";
import type { ServerContext } from "../context.js";
import { watchClient } from "../in-flight.js";
import { exchangeAccount } from "../admission.js";
import { idempotentRoute, type IdempotencyClaim } from "../idempotency.js";
import { streamToClient, type StreamWire } from "../stream-response.js";
import { logExchangeLine } from "../../logging/exchange-line.js";
import { OVERHEAD_HEADER } from "./chat-completions.js";

/**
 * More of an inbound route's registration: Fastify's route options — `config` (`billed: true` for a route
 * admission bills that is not in its own list), `constraints` and a `preValidation` hook that sets
 * `request.inboundModel` before admission (a protocol whose model or method is in the URL: Gemini's
 * `/v1beta/models/{model}:generateContent`), a route `preHandler` (run after admission; one that sends the
 * answer ends the request there: legacy completions' several prompts).
 */
export type InboundRouteOptions = Pick<
  RouteShorthandOptions,
  "constraints" | "config" | "preValidation" | "preHandler"
>;

/**
 * Registers `POST path` for `adapter`'s protocol (with `Idempotency-Key`
 * handling, src/server/idempotency.ts).
 * @param adapter the protocol's adapter, or a function giving the adapter of one request (when the URL says what
 *   the body does not: Gemini's model, method and `alt`)
 * @param lookup how the adapter reads a recorded exchange back (OpenAI Responses' `previous_response_id`)
 * @param options more route options ({@link InboundRouteOptions})
 */
export function registerInboundRoute(
  app: FastifyInstance,
  ctx: ServerContext,
  path: string,
  adapter: InboundAdapter | ((request: FastifyRequest) => InboundAdapter),
  lookup: (request: FastifyRequest) => InboundContext,
  options: InboundRouteOptions = {},
): void {
  const adapterOf = typeof adapter === "function" ? adapter : () => adapter;
  const route = idempotentRoute(ctx, (request, reply, claim) =>
    handleInbound(ctx, adapterOf(request), lookup(request), request, reply, claim),
  );
  app.post(path, { ...options, onSend: route.onSend }, route.handler);
}

/** An attempt's answer: from a native upstream (its body as sent) or translated (the provider's chat completion). */
type Answered =
  { native: true; protocol: NativeProtocol; rawBody: string } | { native: false; completion: ProviderCompletion };

async function handleInbound(
  ctx: ServerContext,
  adapter: InboundAdapter,
  inboundContext: InboundContext,
  request: FastifyRequest,
  reply: FastifyReply,
  claim: IdempotencyClaim | null,
): Promise<void> {
  let parsed: ParsedInbound;
  try {
    parsed = await adapter.parse(request.body, inboundContext);
  } catch (error) {
    const relayError = toRelayError(error);
    ctx.logger.info(
      {
        id: request.id,
        protocol: adapter.protocol,
        status: relayError.status,
        outcome: "rejected",
        error: relayError.message,
      },
      "chat.completion",
    );
    request.relayLogged = true;
    throw error;
  }
  const exchange = new Exchange(request.id, parsed.chat, null);
  exchange.client = clientOf(request.headers["user-agent"]);
  exchange.inbound = { protocol: adapter.protocol, request: parsed.request };
  exchange.account = exchangeAccount(request);
  const info: InboundAnswerInfo = {
    exchangeId: exchange.id,
    model: parsed.model,
    startedAt: exchange.startedAt,
    promptTokensEstimate: countRequestPromptTokens(parsed.chat),
    request: parsed.request,
  };
  const nativeProtocol = isNativeProtocol(adapter.protocol) ? adapter.protocol : null;
  const native: NativeRequest | null = nativeProtocol && {
    protocol: nativeProtocol,
    request: parsed.request,
    rawBody: request.rawBody,
    stream: parsed.stream,
    headers: adapter.forwardedHeaders(request.headers),
  };
  const watch = watchClient(ctx.inFlight, reply, {
    id: exchange.id,
    model: parsed.model,
    protocol: adapter.protocol,
    tenant: request.tenant?.tenantId ?? null,
    startedAt: exchange.startedAt,
    stream: parsed.stream,
  });
  const signal = watch.signal;
  const attempts: ExchangeAttempts = {
    exchange,
    signal,
    callFor: (target) => ({
      body: exchange.upstreamBody(target.route),
      signal,
      requestId: request.id,
      ...rawPromptFor(parsed.rawPrompt, target.provider),
    }),
  };
  const deps = { router: ctx.router, providers: ctx.providers };
  let outcome: ExchangeOutcome;
  try {
    if (parsed.stream) {
      const opened: Dispatched<OpenedStream> = await dispatchExchange(deps, attempts, (target, call) => {
        const endpoint = native && nativeEndpointFor(target, native.protocol);
        if (endpoint)
          return openNativeStream(endpoint, nativeCall(native, target.route.upstreamModel, signal, request.id));
        if (parsed.untranslatable) throw parsed.untranslatable;
        return openStream(target.provider, call);
      });
      const wire: StreamWire =
        opened.value.kind === "native" && native
          ? { kind: "native", protocol: native.protocol, errorText: (e) => nativeStreamErrorText(native.protocol, e) }
          : { kind: "encoder", encoder: adapter.streamEncoder(info), contentType: adapter.streamContentType };
      outcome = await streamToClient(exchange, opened, signal, reply, claim?.stream, wire);
    } else {
      const answered: Dispatched<Answered> = await dispatchExchange(deps, attempts, async (target, call) => {
        const endpoint = native && nativeEndpointFor(target, native.protocol);
        if (endpoint) {
          const { rawBody } = await endpoint.complete(
            nativeCall(native, target.route.upstreamModel, signal, request.id),
          );
          return { native: true, protocol: native.protocol, rawBody };
        }
        if (parsed.untranslatable) throw parsed.untranslatable;
        return { native: false, completion: await target.provider.complete(call) };
      });
      answered.finish(signal.aborted ? signal.reason : undefined);
      if (signal.aborted) throw signal.reason;
      const value = answered.value;
      if (value.native) {
        outcome = okOutcome({
          kind: "native",
          protocol: value.protocol,
          stream: false,
          body: value.rawBody,
          blocks: [],
        });
        sendJson(exchange, value.rawBody, reply);
      } else {
        const { rawBody, completion, usageEstimated } = value.completion;
        const chat = completion ?? completionOf(rawBody);
        outcome = okOutcome({ kind: "completion", body: completion ?? rawBody, usageEstimated });
        sendJson(exchange, adapter.fromCompletion(chat, info), reply);
      }
    }
  } catch (error) {
    const failed = failedOutcome(error, signal, { received: null, statusSent: false });
    outcome = failed.outcome;
    if (!reply.sent && !reply.raw.headersSent) {
      reply
        .code(outcome.httpStatus)
        .headers(failed.answer.headers)
        .headers(exchange.routingHeaders())
        .send(adapter.errorBody(failed.answer));
    }
  } finally {
    watch.end();
  }
  const pending = exchange.toPending(outcome);
  logExchangeLine(ctx.logger, pending); // at the end of the answer, before the record is queued
  ctx.recorder.enqueue(pending);
  request.relayLogged = true;
}

/**
 * The bare prompt of an attempt (`ProviderCall.rawPrompt`), for a request that has one.
 * @throws RelayError 400 naming `suffix` when the prompt has a suffix and the provider has no fill-in-the-middle
 */
function rawPromptFor(rawPrompt: RawPrompt | undefined, provider: ChatProvider): { rawPrompt?: RawPrompt } {
  if (!rawPrompt) return {};
  if (rawPrompt.suffix !== undefined && provider.fillInTheMiddle !== true)
    throw invalidRequest(
      `'suffix' (fill-in-the-middle) is not supported by the ${provider.kind} backend of this model; llm-relay completes a suffix on llamacpp deployments (llama.cpp's /infill). Send the prompt without 'suffix'.`,
      "suffix",
      "invalid_value",
    );
  return { rawPrompt };
}

/**
 * The chat completion of a provider's body (providers have already checked it is one).
 * @throws RelayError 502 `upstream_invalid_response` when it is not
 */
function completionOf(rawBody: string): ChatCompletion {
  const read = readCompletion(rawBody);
  if (!read.ok) throw upstreamInvalidResponse(`a body that is not a chat.completion (${read.problem})`, rawBody);
  return read.value;
}

/** Sends a non-streamed answer with the overhead and routing headers. */
function sendJson(exchange: Exchange, body: string, reply: FastifyReply): void {
  reply
    .code(200)
    .header("content-type", "application/json")
    .header(OVERHEAD_HEADER, exchange.overheadMs().toFixed(3))
    .headers(exchange.routingHeaders())
    .send(body);
}
