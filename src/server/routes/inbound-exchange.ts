/**
 * One exchange in an inbound protocol other than Chat Completions
 * (Anthropic Messages, OpenAI Responses), on the same core as
 * `POST /v1/chat/completions`: admission, idempotency, the dispatcher
 * (routing, retries, fallbacks, balancing), the recorder. The protocol's
 * adapter (`protocol/inbound.ts`) validates the request and translates it
 * to chat; each attempt then goes either to a deployment that speaks the
 * protocol natively, as the client's own bytes (`ChatProvider.native`,
 * `exchange/native.ts`), answered byte for byte, or to any other as the
 * chat translation, its answer encoded back into the protocol.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import { Exchange } from "../../exchange/exchange.js";
import { nativeCall, nativeEndpointFor, type NativeRequest } from "../../exchange/native.js";
import { openNativeStream, openStream, type OpenedStream } from "../../exchange/open-stream.js";
import { failedOutcome, okOutcome, type ExchangeOutcome } from "../../exchange/outcome.js";
import { dispatchExchange, type ExchangeAttempts } from "../../exchange/run.js";
import type { ChatCompletion } from "../../protocol/chat-completion.js";
import { toRelayError, upstreamInvalidResponse } from "../../protocol/errors.js";
import { nativeStreamErrorText } from "../../protocol/native-stream-error.js";
import {
  isNativeProtocol,
  type InboundAdapter,
  type InboundAnswerInfo,
  type InboundContext,
  type NativeProtocol,
  type ParsedInbound,
} from "../../protocol/inbound.js";
import { readCompletion } from "../../protocol/upstream-json.js";
import type { ProviderCompletion } from "../../providers/types.js";
import type { Dispatched } from "../../routing/dispatcher.js";
import { countRequestPromptTokens } from "../../tokens/count.js";
import type { ServerContext } from "../context.js";
import { watchClient } from "../in-flight.js";
import { exchangeAccount } from "../admission.js";
import { idempotentRoute, type IdempotencyClaim } from "../idempotency.js";
import { streamToClient, type StreamWire } from "../stream-response.js";
import { OVERHEAD_HEADER } from "./chat-completions.js";

/**
 * Registers `POST path` for `adapter`'s protocol (with `Idempotency-Key`
 * handling, src/server/idempotency.ts).
 * @param lookup how the adapter reads a recorded exchange back (OpenAI Responses' `previous_response_id`)
 * @param options.billed books usage and applies rate limits (admission) on a route admission does not know by name
 * @param options.preHandler runs after admission and may answer a request that needs no exchange itself (Ollama's "load a model")
 */
export function registerInboundRoute(
  app: FastifyInstance,
  ctx: ServerContext,
  path: string,
  adapter: InboundAdapter,
  lookup: (request: FastifyRequest) => InboundContext,
  options: { billed?: boolean; preHandler?: preHandlerAsyncHookHandler } = {},
): void {
  const route = idempotentRoute(ctx, (request, reply, claim) =>
    handleInbound(ctx, adapter, lookup(request), request, reply, claim),
  );
  app.post(
    path,
    {
      onSend: route.onSend,
      ...(options.billed ? { config: { billed: true } } : {}),
      ...(options.preHandler ? { preHandler: options.preHandler } : {}),
    },
    route.handler,
  );
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
  const watch = watchClient(ctx.inFlight, reply);
  const signal = watch.signal;
  const attempts: ExchangeAttempts = {
    exchange,
    signal,
    callFor: (target) => ({ body: exchange.upstreamBody(target.route), signal, requestId: request.id }),
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
  ctx.recorder.enqueue(exchange.toPending(outcome));
  request.relayLogged = true;
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
