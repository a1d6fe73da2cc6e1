/**
 * What an OpenAI-compatible stream's SSE text is checked for on its way
 * through (OpenAI's streaming format: `data: {chat.completion.chunk}`
 * events, an optional `data: {"error": …}` event, `data: [DONE]`), with
 * string checks only (src/protocol/sse-sniff.ts): a block is split into events only when it may hold
 * `[DONE]` or an error.
 */
import { sseEvents } from "../../protocol/sse-text.js";
import { firstDoneOrError, hasErrorKey } from "../../protocol/sse-sniff.js";
import type { RelayError } from "../../protocol/errors.js";
import type { ProviderStreamEvent } from "../types.js";
import { upstreamHttpError } from "../../protocol/upstream-errors.js";

/** A block of upstream events, checked. */
export interface CheckedBlock {
  /** The text to pass on: the block, or its part before `[DONE]` or an error event. */
  forward: string;
  /** The upstream's in-band error event, as a RelayError (502 unless it names another status); null when none. */
  error: RelayError | null;
  /** True when the block held `data: [DONE]` (nothing after it is forwarded). */
  done: boolean;
}

/**
 * Checks a block of complete events (src/protocol/sse-text.ts `SseEventCutter`).
 * Only the events from the first that may be `[DONE]` or an error on are
 * split and read: a whole stream that arrives in one read (a fast upstream)
 * is not parsed on its way through.
 */
export function checkBlock(block: string): CheckedBlock {
  const at = firstDoneOrError(block);
  if (at < 0) return { forward: block, error: null, done: false };
  const start = block.includes("\r") ? 0 : eventStartLf(block, at);
  let forward = block.slice(0, start);
  for (const event of sseEvents(start === 0 ? block : block.slice(start))) {
    if (event.data === "[DONE]") return { forward, error: null, done: true };
    const error = event.data === null ? null : inBandError(event.data);
    if (error) return { forward, error, done: false };
    forward += event.raw;
  }
  return { forward, error: null, done: false };
}

/** The start of the event holding index `at`, in a block whose lines end with LF only. */
function eventStartLf(block: string, at: number): number {
  const blank = block.lastIndexOf("\n\n", at);
  return blank < 0 ? 0 : blank + 2;
}

/** The RelayError of an `{"error": …}` event, or null for any other payload. */
function inBandError(data: string): RelayError | null {
  if (!hasErrorKey(data)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  if (parsed && typeof parsed === "object" && (parsed as { error?: unknown }).error)
    return upstreamHttpError(502, data);
  return null;
}

/**
 * The events of a pass-through stream, one per `data:` payload (for
 * callers that want events, e.g. the library's in-process transport).
 */
export async function* eventsOfBlocks(blocks: AsyncIterable<string>): AsyncGenerator<ProviderStreamEvent> {
  for await (const block of blocks) {
    for (const event of sseEvents(block)) if (event.data !== null) yield { data: event.data };
  }
}
