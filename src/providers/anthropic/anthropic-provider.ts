/**
 * Anthropic's Messages API behind the OpenAI Chat Completions interface:
 * `POST {base_url}/v1/messages` with `x-api-key` and
 * `anthropic-version: 2023-06-01` (https://docs.anthropic.com/en/api/messages).
 * Requests are translated by request-mapping.ts, answers by
 * response-mapping.ts, streams by stream-mapping.ts, errors by
 * error-mapping.ts. One undici keep-alive pool per deployment, with the
 * deployment's connect, first-token, idle and total timeouts.
 *
 * A client that speaks Messages itself is served natively (`native("messages")`,
 * src/providers/native/native-endpoint.ts): its bytes go to the same
 * `/v1/messages` with the key as `x-api-key`, the client's `anthropic-version`
 * (else {@link ANTHROPIC_VERSION}) and its `anthropic-beta`, and errors are
 * mapped by error-mapping.ts as for translated calls.
 */
import { errors } from "../../protocol/error-codes.js";
import { Pool, type Dispatcher } from "undici";
import type { Deployment } from "../../config/schema.js";
import { RelayError, upstreamInvalidResponse } from "../../protocol/errors.js";
import { sseData } from "../../protocol/sse-data.js";
import {
  deploymentTimeouts,
  isTotalTimeout,
  releaseTotalTimeout,
  streamWithTotalTimeout,
  totalTimeoutError,
  withTotalTimeout,
} from "../http/timeouts.js";
import { mapTransportError } from "../../protocol/upstream-errors.js";
import { UpstreamClient } from "../http/upstream-client.js";
import { createNativeEndpoint } from "../native/native-endpoint.js";
import type { NativeProtocol } from "../../protocol/inbound.js";
import type {
  ChatProvider,
  NativeEndpoint,
  ProviderCall,
  ProviderCompletion,
  ProviderContext,
  ProviderStreamEvent,
} from "../types.js";
import type { AnthropicMessage, AnthropicStreamEvent } from "../../protocol/anthropic/anthropic-types.js";
import { anthropicHttpError } from "../../protocol/anthropic/error-mapping.js";
import { toAnthropicRequest } from "./request-mapping.js";
import { toChatCompletion } from "../../protocol/anthropic/response-mapping.js";
import { AnthropicStreamMapper } from "../../protocol/anthropic/stream-mapping.js";

/** Where requests go when the deployment sets no `base_url`. */
export const ANTHROPIC_BASE_URL = "https://api.anthropic.com";
/** The API version this translation follows. */
export const ANTHROPIC_VERSION = "2023-06-01";
/** The variable the API key is read from when the deployment names none. */
export const DEFAULT_API_KEY_ENV = "ANTHROPIC_API_KEY";

/**
 * Creates the provider for one deployment. `base_url` is the API's root
 * (`https://api.anthropic.com`; a trailing `/v1` is tolerated); the key is
 * read from `env[api_key_env ?? "ANTHROPIC_API_KEY"]` at each call.
 * Does no I/O.
 */
export function createAnthropicProvider(deployment: Deployment, { env, logger, debug }: ProviderContext): ChatProvider {
  const base = new URL(deployment.base_url ?? ANTHROPIC_BASE_URL);
  const origin = base.origin;
  const root = base.pathname.replace(/\/+$/, "").replace(/\/v1$/, "");
  const path = `${root}/v1/messages`;
  const timeouts = deploymentTimeouts(deployment);
  const pool = new Pool(origin, { connect: { timeout: timeouts.connectMs }, keepAliveTimeout: 30_000 });
  const keyEnv = deployment.api_key_env ?? DEFAULT_API_KEY_ENV;
  if (!env[keyEnv])
    logger.warn(
      { origin, api_key_env: keyEnv },
      "anthropic deployment: the API key variable is not set; requests go without x-api-key",
    );

  function headers(call: ProviderCall, stream: boolean): Record<string, string> {
    const out: Record<string, string> = {
      "content-type": "application/json",
      accept: stream ? "text/event-stream" : "application/json",
      "anthropic-version": ANTHROPIC_VERSION,
      "x-request-id": call.requestId,
    };
    const key = env[keyEnv];
    if (key) out["x-api-key"] = key;
    return out;
  }

  /** The native Messages endpoint, made on first use (its own keep-alive pool through the shared HTTP client). */
  let messages: { client: UpstreamClient; endpoint: NativeEndpoint } | null = null;
  function nativeMessages(): NativeEndpoint {
    if (messages) return messages.endpoint;
    const client = new UpstreamClient(`${origin}${root}`, timeouts, {}, anthropicHttpError);
    const endpoint = createNativeEndpoint({
      protocol: "messages",
      client,
      path: "/v1/messages",
      timeouts,
      headers: (call) => {
        const key = env[keyEnv];
        return {
          "anthropic-version": call.headers["anthropic-version"] ?? ANTHROPIC_VERSION,
          ...(key ? { "x-api-key": key } : {}),
        };
      },
    });
    messages = { client, endpoint };
    return endpoint;
  }

  /** Maps what undici threw, telling the total timeout apart from the others. */
  function transportError(error: unknown, signal: AbortSignal, timeoutMs: number): RelayError {
    if (error instanceof RelayError) return error;
    if (isTotalTimeout(signal) && timeouts.totalMs !== null) return totalTimeoutError(origin, timeouts.totalMs);
    return mapTransportError(error, origin, timeoutMs);
  }

  /** Sends the translated request; resolves with a 2xx response, else throws the mapped error. */
  async function send(call: ProviderCall, stream: boolean, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const body = toAnthropicRequest(call.body, deployment);
    if (debug) logger.debug({ requestId: call.requestId, upstream: `${origin}${path}`, body }, "anthropic request");
    let response: Dispatcher.ResponseData;
    try {
      response = await pool.request({
        path,
        method: "POST",
        headers: headers(call, stream),
        body: JSON.stringify(body),
        signal,
        headersTimeout: timeouts.firstTokenMs,
        bodyTimeout: timeouts.idleMs,
      });
    } catch (error) {
      throw transportError(error, signal, timeouts.firstTokenMs);
    }
    if (response.statusCode >= 400) {
      const text = await response.body.text().catch(() => "");
      const retryAfter = response.headers["retry-after"];
      throw anthropicHttpError(response.statusCode, text, typeof retryAfter === "string" ? retryAfter : undefined);
    }
    return response;
  }

  return {
    kind: "anthropic",

    async complete(call: ProviderCall): Promise<ProviderCompletion> {
      const signal = withTotalTimeout(call.signal, timeouts.totalMs);
      let text: string;
      try {
        const response = await send(call, false, signal);
        try {
          text = await response.body.text();
        } catch (error) {
          throw transportError(error, signal, timeouts.idleMs);
        }
      } finally {
        releaseTotalTimeout(signal);
      }
      const message = parseJson(text, origin) as Partial<AnthropicMessage> | null;
      if (!isAnthropicMessage(message)) throw invalidResponse(origin, text);
      return toChatCompletion(message);
    },

    stream(call: ProviderCall): AsyncIterable<ProviderStreamEvent> {
      return streamWithTotalTimeout(call.signal, timeouts.totalMs, (signal) => streamWithin(call, signal));
    },

    native(protocol: NativeProtocol): NativeEndpoint | undefined {
      return protocol === "messages" ? nativeMessages() : undefined;
    },

    async close(): Promise<void> {
      await Promise.all([pool.close(), messages?.client.close()]);
    },
  };

  /** The stream of one call, under `signal` (the call's, with the total timeout). */
  async function* streamWithin(call: ProviderCall, signal: AbortSignal): AsyncGenerator<ProviderStreamEvent> {
    const response = await send(call, true, signal);
    const mapper = new AnthropicStreamMapper(call.body.stream_options?.include_usage === true);
    try {
      // Read to the end of the body even after message_stop, so the keep-alive connection is reused.
      for await (const data of sseData(response.body)) {
        const event = parseJson(data, origin) as AnthropicStreamEvent | null;
        if (!event || typeof event.type !== "string") throw invalidResponse(origin, data);
        yield* mapper.map(event);
      }
    } catch (error) {
      throw transportError(error, signal, timeouts.idleMs);
    } finally {
      if (!response.body.destroyed) response.body.destroy();
    }
    if (!mapper.finished) {
      throw errors.upstreamTruncated(`The upstream ${origin} ended the stream before message_stop`);
    }
  }
}

function parseJson(text: string, origin: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalidResponse(origin, text);
  }
}

/** 502 `upstream_invalid_response` for an answer or event that is not Anthropic's (the whole text kept for the record). */
function invalidResponse(origin: string, text: string): RelayError {
  return upstreamInvalidResponse(`The upstream ${origin} sent an answer that is not an Anthropic message`, text);
}

/** A message the mapping can read: `type: "message"`, a string id, and content blocks that are objects. */
function isAnthropicMessage(value: Partial<AnthropicMessage> | null): value is AnthropicMessage {
  if (!value || typeof value !== "object" || value.type !== "message" || typeof value.id !== "string") return false;
  if (value.usage !== undefined && (typeof value.usage !== "object" || value.usage === null)) return false;
  return Array.isArray(value.content) && value.content.every((block) => typeof block === "object" && block !== null);
}
