/**
 * An answer of an upstream that spoke Anthropic's Messages API natively,
 * read as the chat completion or chunks it stands for (for the record).
 * The mapping is the Anthropic provider's own (src/providers/anthropic/
 * response-mapping.ts, stream-mapping.ts, usage-mapping.ts), so a native
 * answer is recorded exactly as a translated one: text, `tool_use` blocks as
 * tool calls, thinking as `reasoning_content`, `stop_reason` as
 * `finish_reason`, and the usage with Anthropic's cache fields
 * (`cache_read_input_tokens`, `cache_creation_input_tokens`) kept for llm's
 * `token_details`. Message: https://docs.anthropic.com/en/api/messages;
 * stream events: https://docs.anthropic.com/en/docs/build-with-claude/streaming.
 */
import type { ChatCompletion, ChatCompletionChunk } from "../chat-completion.js";
import { sseDataOf } from "../sse-text.js";
import type { AnthropicMessage, AnthropicStreamEvent } from "./anthropic-types.js";
import { toChatCompletion } from "./response-mapping.js";
import { AnthropicStreamMapper } from "./stream-mapping.js";
import { mergeUsage, toOutputUsage } from "./usage-mapping.js";
import type { AnthropicUsage } from "./anthropic-types.js";
import { toUsage } from "../chat-output.js";

/**
 * The chat completion of a Messages API `message` body (JSON text).
 * @throws Error when the body is not JSON of `type: "message"` with a `content` array
 */
export function decodeAnthropicMessage(body: string): ChatCompletion {
  const message = parseJson(body);
  if (!isRecord(message) || message.type !== "message" || !Array.isArray(message.content))
    throw new Error("the body is not an Anthropic message");
  const completion = toChatCompletion({
    ...message,
    id: stringOr(message.id, "msg"),
  } as unknown as AnthropicMessage).completion;
  if (!completion) throw new Error("the Anthropic message could not be read");
  return completion;
}

/**
 * The chunks of a Messages stream (blocks of SSE text, `event:` lines
 * included), ending with the usage chunk once `message_stop` arrived. A
 * stream cut short gives the chunks up to where it stopped, and a usage
 * chunk of the counts it reported so far (`message_start`'s input); an
 * in-band `error` event ends the reading there.
 * @throws Error when an event's data is not JSON with a `type`
 */
export function decodeAnthropicStream(blocks: readonly string[]): ChatCompletionChunk[] {
  const mapper = new AnthropicStreamMapper(true);
  const chunks: ChatCompletionChunk[] = [];
  let usage: AnthropicUsage | null = null;
  for (const data of sseDataOf(blocks)) {
    const event = parseJson(data);
    if (!isRecord(event) || typeof event.type !== "string")
      throw new Error(`a stream event that is not an Anthropic event: ${data.slice(0, 200)}`);
    if (event.type === "error") break;
    const reported = event.type === "message_start" && isRecord(event.message) ? event.message.usage : event.usage;
    if (isRecord(reported)) usage = mergeUsage(usage ?? {}, reported);
    for (const mapped of mapper.map(event as unknown as AnthropicStreamEvent))
      if (mapped.chunk) chunks.push(mapped.chunk);
    if (mapper.finished) return chunks;
  }
  const last = chunks.at(-1);
  if (usage && last) chunks.push({ ...last, choices: [], usage: toUsage(toOutputUsage(usage)) });
  return chunks;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" ? value : fallback;
}
