/**
 * Streams a provider's `chat.completion.chunk` events to the client as
 * SSE (WHATWG "Server-sent events"; OpenAI's streaming format), each event
 * forwarded as soon as it arrives and ending with `data: [DONE]`. Headers
 * go out with the first upstream event, so an upstream that fails before
 * it can still be retried or fallen back from, or answered with a proper
 * HTTP error status. After that, a failure is sent in-band
 * (`data: {"error":…}`) and the stream closes without `[DONE]`.
 *
 * Two forms. A provider with `streamSse` (OpenAI-compatible upstreams)
 * hands over the SSE text it read, cut at event boundaries: it is written
 * to the client as it is, one socket write per upstream read, and kept
 * whole for the recorder, which reads the events later. Other providers
 * hand over chunk events, each written as a `data:` event.
 *
 * Hot path: no JSON parsing and no per-event work on pass-through text
 * (src/protocol/sse-sniff.ts's checks find the first token and the
 * usage-only chunk, whatever the upstream's JSON whitespace).
 */
import type { ServerResponse } from "node:http";
import type { FastifyReply } from "fastify";
import { chunkOf, eventHasOutput, isUsageOnlyEvent, type OpenedStream } from "../exchange/open-stream.js";
import { failedOutcome, okOutcome, type ExchangeOutcome } from "../exchange/outcome.js";
import type { ChatCompletionChunk } from "../protocol/chat-completion.js";
import type { ProviderStreamEvent } from "../providers/types.js";
import type { Dispatched } from "../routing/dispatcher.js";
import { sseDataOf, withoutEvents } from "../protocol/sse-text.js";
import {
  hasEmptyChoices,
  hasOutput as sniffOutput,
  isUsageOnlyPayload,
  nextEmptyChoices,
} from "../protocol/sse-sniff.js";
import type { RawOutput } from "../recording/types.js";
import type { Exchange } from "../exchange/exchange.js";
import type { NativeProtocol, StreamEncoder } from "../protocol/inbound.js";
import { upstreamInvalidResponse, type RelayError } from "../protocol/errors.js";
import { sniffNativeOutput } from "../protocol/native-sniff.js";

/** The stream's start moved to the exchange core; re-exported for the server's callers. */
export { openEventStream, openStream, type OpenedEventStream, type OpenedStream } from "../exchange/open-stream.js";

/** The headers of every SSE answer. */
export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

/**
 * Watches what a stream sends, e.g. to keep it for `Idempotency-Key`
 * replays (src/server/idempotency.ts).
 */
export interface StreamObserver {
  /** Each `data:` payload written to the client, in order (`[DONE]` and in-band errors excluded); chat streams only. */
  onData(data: string): void;
  /** Each piece of SSE text written to the client, in order, for a stream in another protocol (an encoder's or a native upstream's). */
  onText(text: string): void;
  /**
   * Awaited just before the last write: `complete` is true when the stream
   * completed (`data: [DONE]`, or `lastText`, follows), false when it ends
   * early (cancelled or truncated). Must not reject.
   * @param lastText for a stream in another protocol: its closing text (the encoder's `end()`, "" for a native stream), written next
   * @param contentType the stream's `content-type` as sent (SSE's, or the protocol's: Ollama's NDJSON)
   */
  beforeEnd(complete: boolean, lastText?: string, contentType?: string): Promise<void>;
}

/**
 * How a stream's answer is written for a client of another protocol:
 * `encoder` turns each chat chunk into the protocol's events; `native`
 * writes a native upstream's SSE blocks as they are.
 */
export type StreamWire =
  | {
      kind: "encoder";
      encoder: StreamEncoder;
      /** The answer's `content-type` (the adapter's `streamContentType`); absent: SSE's. */
      contentType?: string | undefined;
    }
  | {
      kind: "native";
      protocol: NativeProtocol;
      /** The protocol's in-band error event, for a native stream broken after it began. */
      errorText(error: RelayError): string;
    };

/** What one stream needs while it is pumped to the client. */
interface Pumping {
  exchange: Exchange;
  res: ServerResponse;
  signal: AbortSignal;
  observer: StreamObserver | undefined;
  /** The client asked for the usage chunk itself (`stream_options.include_usage`). */
  wantsUsage: boolean;
}

/**
 * Streams an opened stream to the client: headers (with the routing
 * headers of the exchange) go out now, then every block or event, then
 * `[DONE]` (chat), the encoder's closing events, or nothing more (a native
 * upstream's stream carries its own end). Ends the answering attempt
 * (`opened.finish`) with the stream's fate.
 * @param observer optional; sees every payload (for another protocol: every text) sent, and is awaited before the last write
 * @param wire for a client of another protocol: its encoder, or how a native stream's in-band error is written; absent: chat
 * @returns the outcome (`ok`, `cancelled` or `truncated`) with the raw output received
 */
export async function streamToClient(
  exchange: Exchange,
  opened: Dispatched<OpenedStream>,
  signal: AbortSignal,
  reply: FastifyReply,
  observer?: StreamObserver,
  wire?: StreamWire,
): Promise<ExchangeOutcome> {
  const stream = opened.value;
  let res: ServerResponse;
  try {
    res = reply.hijack().raw;
  } catch (error) {
    opened.finish(error);
    throw error;
  }
  const pumping: Pumping = {
    exchange,
    res,
    signal,
    observer,
    wantsUsage: exchange.body.stream_options?.include_usage === true,
  };
  const blocks: string[] = [];
  const streamed: StreamedEvents = { kind: "stream", events: [] };
  const output: RawOutput =
    stream.kind === "native"
      ? { kind: "native", protocol: stream.protocol, stream: true, body: "", blocks }
      : stream.kind === "sse"
        ? { kind: "sse", blocks }
        : streamed;
  const encoder = wire?.kind === "encoder" ? wire.encoder : null;
  try {
    // Headers set on the reply before it was hijacked (admission's budget and x-ratelimit-*) go out too. The routing
    // headers are set on the reply as well, where an idempotent answer's replay reads them back.
    reply.headers(exchange.routingHeaders());
    const contentType = (wire?.kind === "encoder" && wire.contentType) || SSE_HEADERS["content-type"];
    res.writeHead(200, { ...headerValues(reply.getHeaders()), ...SSE_HEADERS, "content-type": contentType });
    if (stream.kind === "native") await pumpNative(pumping, stream.protocol, stream.iterator, stream.first, blocks);
    else if (encoder && stream.kind === "sse")
      await pumpEncodedSse(pumping, encoder, stream.iterator, stream.first, blocks);
    else if (encoder && stream.kind === "events")
      await pumpEncodedEvents(pumping, encoder, stream.iterator, stream.first, streamed);
    else if (stream.kind === "sse") await pumpSse(pumping, stream.iterator, stream.first, blocks);
    else await pumpEvents(pumping, stream.iterator, stream.first, streamed);
    if (signal.aborted) {
      opened.finish(signal.reason);
      await observer?.beforeEnd(false);
      return ended(output, res, signal.reason, signal, wire);
    }
    opened.finish();
    const last = stream.kind === "native" ? "" : encoder ? encoder.end() : "data: [DONE]\n\n";
    await observer?.beforeEnd(true, wire ? last : undefined, contentType);
    res.end(last);
    return okOutcome(output);
  } catch (error) {
    await stream.iterator.return?.().catch(() => undefined);
    opened.finish(signal.aborted ? signal.reason : error);
    await observer?.beforeEnd(false);
    return ended(output, res, error, signal, wire);
  }
}

/**
 * Forwards a native upstream's SSE blocks as they are (the client speaks
 * the upstream's protocol), keeping every block for the record.
 */
async function pumpNative(
  { exchange, res, signal, observer }: Pumping,
  protocol: NativeProtocol,
  iterator: AsyncIterator<string>,
  first: IteratorResult<string>,
  blocks: string[],
): Promise<void> {
  let sawOutput = false;
  for (let next = first; !next.done; next = await exchange.wait(iterator.next())) {
    const block = next.value;
    blocks.push(block);
    if (!sawOutput && sniffNativeOutput(protocol, block)) {
      sawOutput = true;
      exchange.markFirstToken();
    }
    const drained = write(res, block, signal);
    observer?.onText(block);
    if (drained) await exchange.wait(drained);
  }
}

/** Writes what the encoder makes of one chunk (nothing when it makes nothing yet). */
async function writeEncoded(
  { exchange, res, signal, observer }: Pumping,
  encoder: StreamEncoder,
  chunk: ChatCompletionChunk,
): Promise<void> {
  const text = encoder.chunk(chunk);
  if (text === "") return;
  const drained = write(res, text, signal);
  observer?.onText(text);
  if (drained) await exchange.wait(drained);
}

/**
 * Translates an OpenAI-compatible upstream's SSE text chunk by chunk
 * through the encoder; keeps every block, whole, for the record.
 * @throws RelayError 502 `upstream_invalid_response` at an event that is not a chunk (nothing can be encoded from it)
 */
async function pumpEncodedSse(
  pumping: Pumping,
  encoder: StreamEncoder,
  iterator: AsyncIterator<string>,
  first: IteratorResult<string>,
  blocks: string[],
): Promise<void> {
  const { exchange } = pumping;
  let sawOutput = false;
  for (let next = first; !next.done; next = await exchange.wait(iterator.next())) {
    const block = next.value;
    blocks.push(block);
    if (!sawOutput && sniffOutput(block)) {
      sawOutput = true;
      exchange.markFirstToken();
    }
    for (const data of sseDataOf([block])) {
      if (data === "[DONE]") continue;
      const chunk = chunkOf({ data });
      if (!chunk || !Array.isArray(chunk.choices))
        throw upstreamInvalidResponse("a stream event that is not a chat.completion.chunk", data);
      await writeEncoded(pumping, encoder, chunk);
    }
  }
}

/** Translates chunk events one by one through the encoder, keeping them in `streamed`. */
async function pumpEncodedEvents(
  pumping: Pumping,
  encoder: StreamEncoder,
  iterator: AsyncIterator<ProviderStreamEvent>,
  first: IteratorResult<ProviderStreamEvent>,
  streamed: StreamedEvents,
): Promise<void> {
  const { exchange } = pumping;
  for (let next = first; !next.done; next = await exchange.wait(iterator.next())) {
    const event = next.value;
    streamed.events.push(event.chunk ?? event.data);
    if (event.usageEstimated) streamed.usageEstimated = true;
    if (eventHasOutput(event)) exchange.markFirstToken();
    const chunk = chunkOf(event);
    if (!chunk || !Array.isArray(chunk.choices))
      throw upstreamInvalidResponse("a stream event that is not a chat.completion.chunk", event.data);
    await writeEncoded(pumping, encoder, chunk);
  }
}

/**
 * Forwards blocks of SSE text as they are, dropping only the usage-only
 * chunk the client did not ask for; keeps every block, whole, for the record.
 */
async function pumpSse(
  { exchange, res, signal, observer, wantsUsage }: Pumping,
  iterator: AsyncIterator<string>,
  first: IteratorResult<string>,
  blocks: string[],
): Promise<void> {
  let sawOutput = false;
  for (let next = first; !next.done; next = await exchange.wait(iterator.next())) {
    const block = next.value;
    blocks.push(block);
    if (!sawOutput && sniffOutput(block)) {
      sawOutput = true;
      exchange.markFirstToken();
    }
    const text =
      wantsUsage || !hasEmptyChoices(block) ? block : withoutEvents(block, isUsageOnlyPayload, nextEmptyChoices);
    if (text === "") continue;
    const drained = write(res, text, signal);
    if (observer) for (const data of sseDataOf([text])) observer.onData(data);
    if (drained) await exchange.wait(drained);
  }
}

/** The chunk events received (the record's raw output), filled as they arrive. */
interface StreamedEvents {
  kind: "stream";
  events: (string | ChatCompletionChunk)[];
  usageEstimated?: boolean;
}

/** Forwards chunk events one by one, each as a `data:` event, keeping them in `streamed`. */
async function pumpEvents(
  { exchange, res, signal, observer, wantsUsage }: Pumping,
  iterator: AsyncIterator<ProviderStreamEvent>,
  first: IteratorResult<ProviderStreamEvent>,
  streamed: StreamedEvents,
): Promise<void> {
  for (let next = first; !next.done; next = await exchange.wait(iterator.next())) {
    const event = next.value;
    streamed.events.push(event.chunk ?? event.data);
    if (event.usageEstimated) streamed.usageEstimated = true;
    if (eventHasOutput(event)) exchange.markFirstToken();
    if (wantsUsage || !isUsageOnlyEvent(event)) {
      const drained = write(res, `data: ${event.data}\n\n`, signal);
      observer?.onData(event.data);
      if (drained) await exchange.wait(drained);
    }
  }
}

/** The reply's headers without unset ones (`getHeaders` may hold undefined values). */
export function headerValues(
  headers: Record<string, number | string | string[] | undefined>,
): Record<string, number | string | string[]> {
  const out: Record<string, number | string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value;
  return out;
}

/**
 * Ends a stream that did not finish (`cancelled` when the signal was
 * aborted, else `truncated`): an in-band error event if the client is
 * still there, no `[DONE]`.
 */
function ended(
  output: RawOutput,
  res: ServerResponse,
  error: unknown,
  signal: AbortSignal,
  wire: StreamWire | undefined,
): ExchangeOutcome {
  const { outcome, answer } = failedOutcome(error, signal, { received: output, statusSent: true });
  if (!res.destroyed && res.writable) res.end(errorText(answer, wire));
  return outcome;
}

/** The in-band error event ending a broken stream, in the client's protocol. */
function errorText(answer: RelayError, wire: StreamWire | undefined): string {
  if (wire?.kind === "encoder") return wire.encoder.error(answer);
  if (wire?.kind === "native") return wire.errorText(answer);
  return `data: ${JSON.stringify(answer.toBody())}\n\n`;
}

/**
 * Writes `text`, coalescing the writes made in the same tick into one
 * socket write (cork until the next tick). Returns a promise only when the
 * client applies backpressure; it settles on drain or when the client goes.
 */
function write(res: ServerResponse, text: string, signal: AbortSignal): Promise<void> | null {
  if (res.destroyed) return null;
  if (res.writableCorked === 0) {
    res.cork();
    process.nextTick(uncork, res);
  }
  if (res.write(text)) return null;
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
    signal.addEventListener("abort", done, { once: true });
  });
}

function uncork(res: ServerResponse): void {
  res.uncork();
}
