/**
 * OpenAI chat `messages` → Anthropic `system` + `messages`
 * (https://docs.anthropic.com/en/api/messages,
 * https://docs.anthropic.com/en/docs/build-with-claude/tool-use,
 * https://docs.anthropic.com/en/docs/build-with-claude/vision):
 *
 * - `system` and `developer` messages, all of them in order, become the
 *   text blocks of the top-level `system`;
 * - text parts become text blocks, `image_url` parts image blocks (a
 *   base64 `data:` URL inline, any other URL as a `url` source);
 * - an assistant's `tool_calls` become `tool_use` blocks (arguments parsed
 *   from their JSON string);
 * - `tool` messages become `tool_result` blocks of a user turn;
 * - consecutive turns of the same role are merged into one, with the
 *   `tool_result` blocks of a user turn first, as the API requires.
 */
import { invalidRequest } from "../../protocol/errors.js";
import type { ChatMessage } from "../../protocol/chat-request.js";
import type {
  AnthropicMessageParam,
  AnthropicRequestBlock,
  AnthropicTextBlock,
} from "../../protocol/anthropic/anthropic-types.js";

/** The conversation in Anthropic's form. */
export interface AnthropicConversation {
  /** The system prompt's text blocks, one per system message (empty when there is none). */
  system: AnthropicTextBlock[];
  /** Alternating user/assistant turns. */
  messages: AnthropicMessageParam[];
}

type ContentPart = Exclude<ChatMessage["content"], string | null | undefined>[number];

/**
 * Converts a request's messages.
 * @throws RelayError 400 (`param` naming the field) for a `function` message, a `tool` message without
 *   `tool_call_id`, tool-call arguments that are not a JSON object, or a content part other than text and images
 */
export function toAnthropicConversation(messages: readonly ChatMessage[]): AnthropicConversation {
  const system: AnthropicTextBlock[] = [];
  const turns: AnthropicMessageParam[] = [];
  messages.forEach((message, i) => {
    const param = `messages.${i}`;
    switch (message.role) {
      case "system":
      case "developer":
        system.push(...textBlocks(message.content, param));
        return;
      case "user":
        push(turns, "user", contentBlocks(message.content, param));
        return;
      case "assistant":
        push(turns, "assistant", [...textBlocks(message.content, param), ...toolUseBlocks(message, param)]);
        return;
      case "tool":
        if (!message.tool_call_id) throw invalidRequest("A tool message needs tool_call_id", `${param}.tool_call_id`);
        push(turns, "user", [
          {
            type: "tool_result",
            tool_use_id: message.tool_call_id,
            content: toolResultContent(message.content, param),
          },
        ]);
        return;
      default:
        throw invalidRequest(
          `The role '${message.role}' is not supported by Anthropic models; send tool calls as tool_calls and tool messages`,
          `${param}.role`,
        );
    }
  });
  for (const turn of turns) if (turn.role === "user") turn.content.sort(toolResultsFirst);
  return { system, messages: turns };
}

/** Appends blocks to the last turn when it has the same role, else starts a turn; empty messages are skipped. */
function push(turns: AnthropicMessageParam[], role: "user" | "assistant", blocks: AnthropicRequestBlock[]): void {
  if (blocks.length === 0) return;
  const last = turns.at(-1);
  if (last?.role === role) last.content.push(...blocks);
  else turns.push({ role, content: blocks });
}

/** Stable order: tool_result blocks before the others. */
function toolResultsFirst(a: AnthropicRequestBlock, b: AnthropicRequestBlock): number {
  return Number(b.type === "tool_result") - Number(a.type === "tool_result");
}

/** Text and image blocks of a user message. */
function contentBlocks(content: ChatMessage["content"], param: string): AnthropicRequestBlock[] {
  if (content == null || typeof content === "string") return textBlocks(content, param);
  return content.flatMap((part, j): AnthropicRequestBlock[] => {
    if (part.type === "image_url") return [imageBlock(part, `${param}.content.${j}`)];
    return textPart(part, `${param}.content.${j}`);
  });
}

/** Text blocks only (system, assistant and tool content); empty texts are left out (the API rejects them). */
function textBlocks(content: ChatMessage["content"], param: string): AnthropicTextBlock[] {
  if (content == null) return [];
  if (typeof content === "string") return content ? [{ type: "text", text: content }] : [];
  return content.flatMap((part, j) => textPart(part, `${param}.content.${j}`));
}

function textPart(part: ContentPart, param: string): AnthropicTextBlock[] {
  // An assistant's `refusal` part is what the model said; it stays part of the history as text.
  const text =
    part.type === "text" ? part.text : part.type === "refusal" ? (part as { refusal?: unknown }).refusal : undefined;
  if (typeof text === "string") return text ? [{ type: "text", text }] : [];
  throw invalidRequest(
    `Content parts of type '${part.type}' are not supported by Anthropic models (text and image_url are)`,
    `${param}.type`,
  );
}

/** An `image_url` part: `data:<media type>;base64,<data>` inline, any other URL for the API to fetch. */
function imageBlock(part: ContentPart, param: string): AnthropicRequestBlock {
  const url = (part as { image_url?: { url?: unknown } }).image_url?.url;
  if (typeof url !== "string" || url === "")
    throw invalidRequest("An image_url part needs image_url.url", `${param}.image_url.url`);
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (data) return { type: "image", source: { type: "base64", media_type: data[1]!, data: data[2]! } };
  if (url.startsWith("data:"))
    throw invalidRequest(
      "An image data: URL must be base64 (data:<media type>;base64,<data>)",
      `${param}.image_url.url`,
    );
  return { type: "image", source: { type: "url", url } };
}

/** The tool_use blocks of an assistant message's `tool_calls`. */
function toolUseBlocks(message: ChatMessage, param: string): AnthropicRequestBlock[] {
  return (message.tool_calls ?? []).map((call, j) => {
    const where = `${param}.tool_calls.${j}`;
    if (!call.id) throw invalidRequest("A tool call needs an id", `${where}.id`);
    return {
      type: "tool_use",
      id: call.id,
      name: call.function.name,
      input: parseArguments(call.function.arguments, `${where}.function.arguments`),
    };
  });
}

/** Tool-call arguments (a JSON string; empty means no arguments) as the object Anthropic takes. */
function parseArguments(text: string | undefined, param: string): Record<string, unknown> {
  if (!text || !text.trim()) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidRequest("Tool-call arguments must be a JSON object", param);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw invalidRequest("Tool-call arguments must be a JSON object", param);
  return parsed as Record<string, unknown>;
}

/** A tool message's content: a string as is, text parts as text blocks. */
function toolResultContent(content: ChatMessage["content"], param: string): string | AnthropicTextBlock[] {
  if (content == null || typeof content === "string") return content ?? "";
  return textBlocks(content, param);
}
