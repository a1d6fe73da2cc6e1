/**
 * A streamed attempt's start, and what the exchange reads of a stream's
 * events: whether one carries output (the TTFT mark). Shared by the
 * server's SSE answer and the library's in-process stream. Events follow
 * OpenAI's `chat.completion.chunk`
 * (https://platform.openai.com/docs/api-reference/chat-streaming).
 */
import { reasoningText, type ChatCompletionChunk } from "../protocol/chat-completion.js";
import { hasOutput as sniffOutput, isUsageOnlyPayload } from "../protocol/sse-sniff.js";
import type {
  ChatProvider,
  NativeCall,
  NativeEndpoint,
  ProviderCall,
  ProviderStreamEvent,
} from "../providers/types.js";
import type { NativeProtocol } from "../protocol/inbound.js";

/**
 * A stream opened by an attempt: its iterator and the first result (the
 * attempt succeeded once it arrived). `sse`: the provider's pass-through
 * form (blocks of SSE text, forwarded as they are); `events`: chunk events.
 */
export type OpenedStream =
  | { kind: "sse"; iterator: AsyncIterator<string>; first: IteratorResult<string> }
  | OpenedEventStream
  | OpenedNativeStream;

/** A stream in the client's own protocol, from an upstream that speaks it natively: SSE blocks as it sent them. */
export interface OpenedNativeStream {
  kind: "native";
  protocol: NativeProtocol;
  iterator: AsyncIterator<string>;
  first: IteratorResult<string>;
}

/** A stream of chunk events opened by an attempt (see {@link OpenedStream}). */
export interface OpenedEventStream {
  kind: "events";
  iterator: AsyncIterator<ProviderStreamEvent>;
  first: IteratorResult<ProviderStreamEvent>;
}

/**
 * One streamed attempt, as the dispatcher runs it: starts the provider's
 * stream (its SSE text when it has `streamSse`) and waits for its first
 * block or event, so that a failure before it can still be retried or
 * fallen back from (nothing has reached the client).
 * @throws RelayError when the upstream fails before its first event
 */
export async function openStream(provider: ChatProvider, call: ProviderCall): Promise<OpenedStream> {
  if (provider.streamSse) {
    const iterator = provider.streamSse(call)[Symbol.asyncIterator]();
    return { kind: "sse", iterator, first: await iterator.next() };
  }
  return openEventStream(provider, call);
}

/**
 * A streamed attempt on a native upstream: starts its SSE stream and waits
 * for the first block (see {@link openStream}).
 * @throws RelayError when the upstream fails before its first block
 */
export async function openNativeStream(endpoint: NativeEndpoint, call: NativeCall): Promise<OpenedNativeStream> {
  const iterator = endpoint.streamSse(call)[Symbol.asyncIterator]();
  return { kind: "native", protocol: call.protocol, iterator, first: await iterator.next() };
}

/**
 * {@link openStream} for callers that want chunk events whatever the
 * provider (the library's in-process transport).
 * @throws RelayError when the upstream fails before its first event
 */
export async function openEventStream(provider: ChatProvider, call: ProviderCall): Promise<OpenedEventStream> {
  const iterator = provider.stream(call)[Symbol.asyncIterator]();
  return { kind: "events", iterator, first: await iterator.next() };
}

/**
 * Whether a chunk event carries output (the first such event is the
 * exchange's TTFT): `delta.content`, `reasoning_content`, `reasoning` or
 * `tool_calls` in any choice.
 */
export function eventHasOutput(event: ProviderStreamEvent): boolean {
  if (!event.chunk) return sniffOutput(event.data);
  return event.chunk.choices.some(
    (c) => Boolean(c.delta?.content) || reasoningText(c.delta) !== null || Boolean(c.delta?.tool_calls?.length),
  );
}

/** Whether a chunk event is the usage-only chunk (no choices, `usage` set) that `stream_options.include_usage` asks for. */
export function isUsageOnlyEvent(event: ProviderStreamEvent): boolean {
  if (event.chunk) return event.chunk.choices.length === 0 && Boolean(event.chunk.usage);
  return isUsageOnlyPayload(event.data);
}

/** The chunk of an event: the provider's object, or its `data` parsed (null when it is not JSON). */
export function chunkOf(event: ProviderStreamEvent): ChatCompletionChunk | null {
  if (event.chunk) return event.chunk;
  try {
    return JSON.parse(event.data) as ChatCompletionChunk;
  } catch {
    return null;
  }
}
