/**
 * A shortcut for reading the `data:` payloads of an OpenAI-style stream
 * (`chat.completion.chunk`, see the OpenAI API reference, "The chat
 * completion chunk object"). Almost every event of a streamed answer is a
 * text delta whose bytes differ from the previous one only in one string:
 * `delta.content`, or, for a reasoning model, its reasoning
 * (`delta.reasoning_content`, or OpenRouter's `delta.reasoning`; see
 * `reasoningText` in chat-completion.ts):
 *
 *     {"id":"chatcmpl-1",…,"choices":[{"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null}]}
 *
 * The decoder learns that shape, once per field, from one event that was
 * fully parsed, and from then on reads the text of an event with the same
 * bytes around the string without `JSON.parse` (a string scan and two
 * comparisons per learned shape). Any event that does not match byte for
 * byte — role, tool-call, finish and usage chunks, or a provider whose
 * chunks vary in other fields — is parsed as usual, so the result is always
 * what a full parse would give.
 */
import type { ChatCompletionChunk } from "./chat-completion.js";

/** What a delta's text is: the answer (`content`) or the model's reasoning. */
export type DeltaKind = "content" | "reasoning";

/** The delta fields the decoder reads, and the kind of text each holds. */
const FIELDS: Readonly<Record<string, DeltaKind>> = {
  content: "content",
  reasoning_content: "reasoning",
  reasoning: "reasoning",
};
/** Events that may fail to teach a shape (a role chunk, a tool call, …) before the decoder stops learning. */
const MAX_MISSES = 8;

/** One learned shape: the bytes around the string of one field. */
interface Shape {
  field: string;
  kind: DeltaKind;
  /** The event's bytes before the string's first character. */
  prefix: string;
  /** The event's bytes after the string's closing quote. */
  suffix: string;
}

/** One delta read by its learned shape. */
export interface DecodedDelta {
  kind: DeltaKind;
  /** The string's value (unescaped). */
  text: string;
}

/** Reads text deltas of one stream by their learned shapes. */
export class ContentChunkDecoder {
  private readonly shapes: Shape[] = [];
  /** Events offered to {@link learn} that did not qualify; after a few, no more shapes are learned. */
  private misses = 0;

  /**
   * The `delta.content` of `event` when it has the learned content shape,
   * else undefined (see {@link decode}).
   * @param event one SSE `data:` payload (JSON text)
   */
  content(event: string): string | undefined {
    const decoded = this.decode(event);
    return decoded?.kind === "content" ? decoded.text : undefined;
  }

  /**
   * The text delta of `event` when it has one of the learned shapes, else
   * undefined (parse it then, and offer it to {@link learn}).
   * @param event one SSE `data:` payload (JSON text)
   */
  decode(event: string): DecodedDelta | undefined {
    for (const shape of this.shapes) {
      const text = read(shape, event);
      if (text !== undefined) return { kind: shape.kind, text };
    }
    return undefined;
  }

  /**
   * Learns the shape of `event` (parsed as `chunk`) if it is a plain text
   * delta of choice 0 whose field has no shape yet. The shape is checked by
   * parsing the event once more with another text: it must give the same
   * chunk but for that field.
   */
  learn(event: string, chunk: ChatCompletionChunk): void {
    if (this.misses >= MAX_MISSES || this.shapes.length === Object.keys(FIELDS).length) return;
    const field = plainTextField(chunk);
    if (field === null || this.shapes.some((s) => s.field === field)) {
      this.misses++;
      return;
    }
    const shape = shapeOf(event, chunk, field);
    if (shape) this.shapes.push(shape);
    else this.misses++;
  }
}

/** The string of `shape`'s field in `event` when the event has exactly that shape, else undefined. */
function read(shape: Shape, event: string): string | undefined {
  const { prefix, suffix } = shape;
  // slice + === rather than startsWith/endsWith: V8 compares a non-constant prefix with startsWith about 10× slower.
  if (event.slice(0, prefix.length) !== prefix) return undefined;
  const end = stringEnd(event, prefix.length);
  if (end < 0 || event.length - end - 1 !== suffix.length || event.slice(end + 1) !== suffix) return undefined;
  const raw = event.slice(prefix.length, end);
  if (raw.indexOf("\\") < 0) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return undefined;
  }
}

/** The shape of `event` around the string of `field`, checked by a probe parse; null when it cannot be learned. */
function shapeOf(event: string, chunk: ChatCompletionChunk, field: string): Shape | null {
  const marker = `"${field}":"`;
  const at = event.indexOf(marker);
  if (at < 0 || event.indexOf(marker, at + 1) >= 0) return null;
  const start = at + marker.length;
  const end = stringEnd(event, start);
  if (end < 0) return null;
  const prefix = event.slice(0, start);
  const suffix = event.slice(end + 1);
  try {
    const probe = JSON.parse(`${prefix}\\u0000probe"${suffix}`) as ChatCompletionChunk;
    const expected = { ...chunk, choices: [{ ...chunk.choices[0]!, delta: { [field]: "\u0000probe" } }] };
    if (JSON.stringify(probe) !== JSON.stringify(expected)) return null;
  } catch {
    return null;
  }
  return { field, kind: FIELDS[field]!, prefix, suffix };
}

/**
 * The field of a chunk whose only payload is one non-empty text string in
 * the delta of choice 0 (`content`, `reasoning_content` or `reasoning`; no
 * finish, no usage, no tool calls, no other delta key), else null.
 */
function plainTextField(chunk: ChatCompletionChunk): string | null {
  if (!chunk || typeof chunk !== "object" || chunk.usage) return null;
  const choices = chunk.choices;
  if (!Array.isArray(choices) || choices.length !== 1) return null;
  const choice = choices[0]!;
  if ((choice.index ?? 0) !== 0 || choice.finish_reason) return null;
  const delta = choice.delta;
  if (!delta || typeof delta !== "object") return null;
  const keys = Object.keys(delta);
  if (keys.length !== 1) return null;
  const field = keys[0]!;
  const value = (delta as Record<string, unknown>)[field];
  return Object.hasOwn(FIELDS, field) && typeof value === "string" && value.length > 0 ? field : null;
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
    if (c === 92)
      i++; // \ escapes the next character
    else if (c < 0x20) return -1;
  }
  return -1;
}
