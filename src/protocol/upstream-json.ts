/**
 * Reading what an OpenAI-compatible upstream answered with success: a
 * `chat.completion` body, or the `chat.completion.chunk` payloads of a
 * stream. Checks only what the proxy and its clients rely on (a JSON object;
 * `choices` an array of objects; a completion's choices each with a
 * `message` object, a chunk's `delta` an object when present), so an
 * answer with extra or unusual fields still passes.
 */
import type { ChatCompletion, ChatCompletionChunk } from "./chat-completion.js";
import { upstreamInvalidResponse } from "./errors.js";

/** A payload read: the value, or why it is not one. */
export type ReadPayload<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Reads a `chat.completion` body. Never throws. */
export function readCompletion(text: string): ReadPayload<ChatCompletion> {
  const value = parseJson(text);
  if (value === NOT_JSON) return { ok: false, problem: "not JSON" };
  if (!isObject(value)) return { ok: false, problem: "not a JSON object" };
  const choices = value.choices;
  if (!Array.isArray(choices) || choices.length === 0) return { ok: false, problem: "no choices" };
  for (const choice of choices) {
    if (!isObject(choice) || !isObject(choice.message))
      return { ok: false, problem: "a choice without a message object" };
  }
  return { ok: true, value: value as unknown as ChatCompletion };
}

/** Reads one `data:` payload of a stream (not `[DONE]`) as a `chat.completion.chunk`. Never throws. */
export function readChunk(text: string): ReadPayload<ChatCompletionChunk> {
  const value = parseJson(text);
  if (value === NOT_JSON) return { ok: false, problem: "not JSON" };
  if (!isObject(value)) return { ok: false, problem: "not a JSON object" };
  const choices = value.choices;
  if (choices !== undefined && !Array.isArray(choices)) return { ok: false, problem: "choices is not an array" };
  for (const choice of choices ?? []) {
    if (!isObject(choice) || (choice.delta !== undefined && choice.delta !== null && !isObject(choice.delta))) {
      return { ok: false, problem: "a choice that is not an object with a delta object" };
    }
  }
  return { ok: true, value: value as unknown as ChatCompletionChunk };
}

/**
 * The `chat.completion` of a non-streaming upstream answer with a 2xx status.
 * @param origin the upstream, for the message
 * @throws RelayError 502 `upstream_invalid_response` (the whole body kept in `upstreamBody`) for a cut, non-JSON or non-completion body
 */
export function parseUpstreamCompletion(text: string, origin: string): ChatCompletion {
  const read = readCompletion(text);
  if (!read.ok)
    throw upstreamInvalidResponse(
      `The upstream ${origin} answered with a body that is not a chat.completion (${read.problem})`,
      text,
    );
  return read.value;
}

const NOT_JSON = Symbol("not JSON");

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
