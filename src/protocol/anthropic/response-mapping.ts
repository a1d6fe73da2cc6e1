/**
 * A non-streaming Anthropic message (https://docs.anthropic.com/en/api/messages,
 * "Response") → an OpenAI `chat.completion`: the text blocks joined as
 * `content`, `tool_use` blocks as `tool_calls` (id kept, input as a JSON
 * string), `thinking` blocks joined as `reasoning_content` (their
 * `signature` is not passed on: the Chat Completions format has no place for
 * it), `stop_reason` as `finish_reason`, `usage` as OpenAI usage. Other
 * block types (redacted thinking, server tools) are left out. The
 * completion's `id` and `model` are the message's.
 */
import type { AssistantMessage } from "../chat-completion.js";
import { ChatOutput } from "../chat-output.js";
import type { ProviderCompletion } from "../../providers/types.js";
import type {
  AnthropicMessage,
  AnthropicResponseBlock,
  AnthropicTextBlock,
  AnthropicThinkingBlock,
  AnthropicToolUseBlock,
} from "./anthropic-types.js";
import { finishReason } from "./finish-reason.js";
import { toOutputUsage } from "./usage-mapping.js";

/** Converts a message into the completion returned to the client. */
export function toChatCompletion(message: AnthropicMessage): ProviderCompletion {
  const blocks = Array.isArray(message.content) ? message.content : [];
  const texts = blocks.filter(isTextBlock).map((block) => block.text);
  const reasoning = blocks
    .filter(isThinkingBlock)
    .map((block) => block.thinking)
    .join("");
  const toolCalls: NonNullable<AssistantMessage["tool_calls"]> = blocks.filter(isToolUseBlock).map((block) => ({
    id: block.id,
    type: "function",
    function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
  }));
  const content = texts.length > 0 ? texts.join("") : toolCalls.length > 0 ? null : "";
  const output = new ChatOutput(message.id, message.model);
  return output.completion(
    { content, reasoning, toolCalls },
    finishReason(message.stop_reason),
    message.usage ? toOutputUsage(message.usage) : null,
  );
}

/** A text block. */
export function isTextBlock(block: AnthropicResponseBlock): block is AnthropicTextBlock {
  return block.type === "text" && typeof (block as { text?: unknown }).text === "string";
}

/** A thinking block (extended thinking) with its text. */
export function isThinkingBlock(block: AnthropicResponseBlock): block is AnthropicThinkingBlock {
  return block.type === "thinking" && typeof (block as { thinking?: unknown }).thinking === "string";
}

/** A client tool call. */
export function isToolUseBlock(block: AnthropicResponseBlock): block is AnthropicToolUseBlock {
  return (
    block.type === "tool_use" &&
    typeof (block as { id?: unknown }).id === "string" &&
    typeof (block as { name?: unknown }).name === "string"
  );
}
