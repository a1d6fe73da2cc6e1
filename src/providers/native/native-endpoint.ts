/**
 * The one implementation of a native endpoint (`ChatProvider.native`): a
 * client's request in its own protocol (Anthropic Messages, OpenAI
 * Responses) POSTed as it is to an upstream that speaks it, through the
 * deployment's {@link UpstreamClient} (its pool, first-token and idle
 * timeouts, transport and HTTP error mapping) under its total timeout. The
 * answer comes back as the upstream sent it: the body, or the SSE text cut
 * into blocks of complete events (src/protocol/sse-text.ts). Checked
 * cheaply (src/providers/native/native-shapes.ts): a 2xx that is not the
 * protocol's answer is a 502 `upstream_invalid_response`; a stream's
 * in-band failure event ends it with that failure (the events before it
 * forwarded), and a stream that stops before its end event is a 502
 * `upstream_truncated`.
 */
import { errors } from "../../protocol/error-codes.js";
import { RelayError, upstreamInvalidResponse } from "../../protocol/errors.js";
import type { NativeProtocol } from "../../protocol/inbound.js";
import { SseEventCutter, sseEvents } from "../../protocol/sse-text.js";
import type { UpstreamClient } from "../http/upstream-client.js";
import {
  isTotalTimeout,
  releaseTotalTimeout,
  streamWithTotalTimeout,
  totalTimeoutError,
  withTotalTimeout,
  type DeploymentTimeouts,
} from "../http/timeouts.js";
import type { NativeCall, NativeEndpoint } from "../types.js";
import { nativeShape, type NativeShape } from "./native-shapes.js";

/** Request headers never taken from the client's forwarded ones: the endpoint sets its own. */
const OWN_HEADERS = new Set(["authorization", "x-api-key", "host", "content-length", "content-type", "accept"]);

/** How one deployment reaches its upstream's endpoint for a protocol. */
export interface NativeEndpointOptions {
  protocol: NativeProtocol;
  /** The deployment's client (its base URL's path is prepended to `path`). */
  client: UpstreamClient;
  /** The endpoint's path under the client's base, e.g. `/v1/messages` or `/responses`. */
  path: string;
  timeouts: DeploymentTimeouts;
  /**
   * The headers of one call besides the client's forwarded ones (which it may override):
   * e.g. a default `anthropic-version` when the client sent none.
   */
  headers?(call: NativeCall): Record<string, string>;
}

/**
 * A native endpoint over `options.client`.
 * Errors: the client's (502 unreachable, 504 timeouts, the upstream's status and error), 504 on the total
 * timeout, 502 `upstream_invalid_response` for an answer not of the protocol, 502 `upstream_truncated` for
 * a stream cut short, an in-band failure's mapped error.
 */
export function createNativeEndpoint(options: NativeEndpointOptions): NativeEndpoint {
  const { client, path, timeouts } = options;
  const shape = nativeShape(options.protocol);

  function headersOf(call: NativeCall): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(call.headers)) {
      if (!OWN_HEADERS.has(name.toLowerCase())) out[name.toLowerCase()] = value;
    }
    return { ...out, ...options.headers?.(call), "x-request-id": call.requestId };
  }

  function failure(error: unknown, signal: AbortSignal): RelayError {
    // The client maps an abort like any transport failure: the total timeout's own abort is told apart first.
    if (isTotalTimeout(signal) && timeouts.totalMs !== null) return totalTimeoutError(client.origin, timeouts.totalMs);
    if (error instanceof RelayError) return error;
    return client.mapError(error);
  }

  async function post(call: NativeCall, signal: AbortSignal) {
    try {
      return await client.postText(path, call.json, {
        signal,
        headers: headersOf(call),
        accept: call.stream ? "text/event-stream" : "application/json",
      });
    } catch (error) {
      throw failure(error, signal);
    }
  }

  async function* streamWithin(call: NativeCall, signal: AbortSignal): AsyncGenerator<string> {
    const response = await post(call, signal);
    const reader = new NativeStreamReader(shape, client.origin);
    try {
      const cutter = new SseEventCutter();
      for await (const bytes of response.body) yield* reader.check(cutter.push(bytes as Uint8Array));
      yield* reader.check(cutter.end());
    } catch (error) {
      throw failure(error, signal);
    } finally {
      if (!response.body.destroyed) response.body.destroy();
    }
    reader.finish();
  }

  return {
    async complete(call: NativeCall): Promise<{ rawBody: string }> {
      const signal = withTotalTimeout(call.signal, timeouts.totalMs);
      try {
        const response = await post(call, signal);
        let rawBody: string;
        try {
          rawBody = await response.body.text();
        } catch (error) {
          throw failure(error, signal);
        }
        if (!shape.isAnswer(parsed(rawBody))) throw notTheProtocol(client.origin, options.protocol, rawBody);
        return { rawBody };
      } finally {
        releaseTotalTimeout(signal);
      }
    },

    streamSse(call: NativeCall): AsyncIterable<string> {
      return streamWithTotalTimeout(call.signal, timeouts.totalMs, (signal) => streamWithin(call, signal));
    },
  };
}

/**
 * Checks a native stream block by block: the first event's type, in-band
 * failures, the end event. Only events whose text names a type it looks
 * for are parsed.
 */
class NativeStreamReader {
  private started = false;
  private ended = false;
  /** What came before the first event with data (comments), held until it arrives. */
  private held = "";

  constructor(
    private readonly shape: NativeShape,
    private readonly origin: string,
  ) {}

  /**
   * The part of `block` to forward (all of it, or the events before an in-band failure), then the failure.
   * @throws RelayError the in-band failure, after the events before it were yielded; 502 for a stream not of the protocol
   */
  *check(block: string): Generator<string> {
    if (block === "") return;
    const watched = [...this.shape.endEvents, ...this.shape.errorEvents];
    if (this.started && !watched.some((type) => block.includes(`"${type}"`))) {
      yield block;
      return;
    }
    let forward = this.held;
    this.held = "";
    for (const event of sseEvents(block)) {
      if (event.data === null) {
        forward += event.raw;
        continue;
      }
      const type = this.typeOf(event.data);
      if (!this.started) {
        if (type !== this.shape.firstEvent)
          throw upstreamInvalidResponse(
            `The upstream ${this.origin} sent a stream that does not start with ${this.shape.firstEvent}`,
            event.data,
          );
        this.started = true;
      }
      if (type !== null && this.shape.errorEvents.includes(type)) {
        if (forward !== "") yield forward;
        throw this.shape.streamError(parsed(event.data) as Record<string, unknown>);
      }
      if (type !== null && this.shape.endEvents.includes(type)) this.ended = true;
      forward += event.raw;
    }
    // Comments before the first event wait for it: a body that never starts is not the protocol's.
    if (!this.started) this.held = forward;
    else if (forward !== "") yield forward;
  }

  /**
   * Checks the stream's end.
   * @throws RelayError 502 `upstream_invalid_response` when nothing of the protocol came, 502 `upstream_truncated` when no end event came
   */
  finish(): void {
    if (!this.started)
      throw upstreamInvalidResponse(
        `The upstream ${this.origin} sent a stream that does not start with ${this.shape.firstEvent}`,
        this.held,
      );
    if (!this.ended)
      throw errors.upstreamTruncated(
        `The upstream ${this.origin} ended the stream before ${this.shape.endEvents.join(" or ")}`,
      );
  }

  /** The `type` of an event's JSON data, or null when it has none. */
  private typeOf(data: string): string | null {
    const value = parsed(data);
    const type = value !== null && typeof value === "object" ? (value as { type?: unknown }).type : undefined;
    return typeof type === "string" ? type : null;
  }
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** 502 `upstream_invalid_response` for a 2xx body that is not the protocol's answer (the text kept for the record). */
function notTheProtocol(origin: string, protocol: NativeProtocol, text: string): RelayError {
  const what = protocol === "messages" ? "an Anthropic message" : "an OpenAI response";
  return upstreamInvalidResponse(`The upstream ${origin} sent an answer that is not ${what}`, text);
}
