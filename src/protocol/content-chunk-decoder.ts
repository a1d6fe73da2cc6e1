/**
 * A shortcut for reading the `data:` payloads of an OpenAI-style stream
 * (`chat.completion.chunk`, see the OpenAI API reference, "The chat
 * completion chunk object"). Almost every event of a streamed answer is a
 * content delta whose bytes differ from the previous one only in the
 * `delta.content` string:
 *
 *     {"id":"chatcmpl-1",…,"choices":[{"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null}]}
 *
 * The decoder learns that shape from one event that was fully parsed, and
 * from then on reads the content of an event with the same bytes around the
 * string without `JSON.parse` (a string scan and two comparisons). Any event
 * that does not match byte for byte — role, tool-call, finish and usage
 * chunks, or a provider whose chunks vary in other fields — is parsed as
 * usual, so the result is always what a full parse would give.
 */
import type { ChatCompletionChunk } from "./chat-completion.js";

const MARKER = '"content":"';
/** Events that may fail to teach the shape (a role chunk, a tool call, …) before the decoder gives up. */
const MAX_MISSES = 8;

/** Reads content deltas of one stream by their learned shape. */
export class ContentChunkDecoder {
  /** The event's bytes before the content string's first character, once learned. */
  private prefix: string | null = null;
  /** The event's bytes after the content string's closing quote. */
  private suffix = "";
  /** Events offered to {@link learn} that did not qualify; after a few, the stream is parsed in full. */
  private misses = 0;

  /**
   * The `delta.content` of `event` when it has the learned shape, else
   * undefined (parse it then, and offer it to {@link learn}).
   * @param event one SSE `data:` payload (JSON text)
   */
  content(event: string): string | undefined {
    const prefix = this.prefix;
    // slice + === rather than startsWith/endsWith: V8 compares a non-constant prefix with startsWith about 10× slower.
    if (prefix === null || event.slice(0, prefix.length) !== prefix) return undefined;
    const end = stringEnd(event, prefix.length);
    if (end < 0 || event.length - end - 1 !== this.suffix.length || event.slice(end + 1) !== this.suffix) return undefined;
    const raw = event.slice(prefix.length, end);
    if (raw.indexOf("\\") < 0) return raw;
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      return undefined;
    }
  }

  /**
   * Learns the shape of `event` (parsed as `chunk`) if it is a plain
   * content delta of choice 0 and no shape is known yet. The shape is
   * checked by parsing the event once more with another content: it must
   * give the same chunk but for `delta.content`.
   */
  learn(event: string, chunk: ChatCompletionChunk): void {
    if (this.prefix !== null || this.misses >= MAX_MISSES) return;
    this.misses++;
    if (!isPlainContentChunk(chunk)) return;
    const at = event.indexOf(MARKER);
    if (at < 0 || event.indexOf(MARKER, at + 1) >= 0) return;
    const start = at + MARKER.length;
    const end = stringEnd(event, start);
    if (end < 0) return;
    const prefix = event.slice(0, start);
    const suffix = event.slice(end + 1);
    try {
      const probe = JSON.parse(`${prefix}\\u0000probe"${suffix}`) as ChatCompletionChunk;
      const expected = { ...chunk, choices: [{ ...chunk.choices![0]!, delta: { content: "\u0000probe" } }] };
      if (JSON.stringify(probe) !== JSON.stringify(expected)) return;
    } catch {
      return;
    }
    this.prefix = prefix;
    this.suffix = suffix;
  }
}

/** A chunk whose only payload is a non-empty `delta.content` of choice 0 (no finish, no usage, no tool calls). */
function isPlainContentChunk(chunk: ChatCompletionChunk): boolean {
  if (!chunk || typeof chunk !== "object" || chunk.usage) return false;
  const choices = chunk.choices;
  if (!Array.isArray(choices) || choices.length !== 1) return false;
  const choice = choices[0]!;
  if ((choice.index ?? 0) !== 0 || choice.finish_reason) return false;
  const delta = choice.delta;
  if (!delta || typeof delta.content !== "string" || delta.content.length === 0) return false;
  return Object.keys(delta).length === 1;
}

/**
 * Index of the quote that closes the JSON string whose first character is
 * at `from`, or -1 (no closing quote, or a raw control character, which
 * JSON does not allow in a string).
 */
function stringEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) return i; // "
    if (c === 92) i++; // \ escapes the next character
    else if (c < 0x20) return -1;
  }
  return -1;
}
