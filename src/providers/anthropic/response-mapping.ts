/**
 * A non-streaming Anthropic message (https://docs.anthropic.com/en/api/messages,
 * "Response") → an OpenAI `chat.completion`: the text blocks joined as
 * `content`, `tool_use` blocks as `tool_calls` (id kept, input as a JSON
 * string), `stop_reason` as `finish_reason`, `usage` as OpenAI usage. Other
 * block types (thinking, server tools) are left out. The completion's `id`
 * and `model` are the message's.
 */
import type { AssistantMessage } from "../../protocol/chat-completion.js";
import { ChatOutput } from "../raw/chat-output.js";
import type { ProviderCompletion } from "../types.js";
import type { AnthropicMessage, AnthropicResponseBlock, AnthropicTextBlock, AnthropicToolUseBlock } from "./anthropic-types.js";
import { finishReason } from "./finish-reason.js";
import { toOutputUsage } from "./usage-mapping.js";

/** Converts a message into the completion returned to the client. */
export function toChatCompletion(message: AnthropicMessage): ProviderCompletion {
  const blocks = Array.isArray(message.content) ? message.content : [];
  const texts = blocks.filter(isTextBlock).map((block) => block.text);
  const toolCalls: NonNullable<AssistantMessage["tool_calls"]> = blocks.filter(isToolUseBlock).map((block) => ({
    id: block.id,
    type: "function",
    function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
  }));
  const content = texts.length > 0 ? texts.join("") : toolCalls.length > 0 ? null : "";
  const output = new ChatOutput(message.id, message.model);
  return output.completion({ content, toolCalls }, finishReason(message.stop_reason), message.usage ? toOutputUsage(message.usage) : null);
}

/** A text block. */
export function isTextBlock(block: AnthropicResponseBlock): block is AnthropicTextBlock {
  return block.type === "text" && typeof (block as { text?: unknown }).text === "string";
}

/** A client tool call. */
export function isToolUseBlock(block: AnthropicResponseBlock): block is AnthropicToolUseBlock {
  return block.type === "tool_use" && typeof (block as { id?: unknown }).id === "string" && typeof (block as { name?: unknown }).name === "string";
}
