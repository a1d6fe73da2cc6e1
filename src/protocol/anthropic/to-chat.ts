/**
 * An Anthropic Messages request (https://docs.anthropic.com/en/api/messages)
 * → the Chat Completions request (https://platform.openai.com/docs/api-reference/chat/create)
 * a deployment that does not speak Messages gets, and the record's llm rows
 * are built from. The reverse of `providers/anthropic/request-mapping.ts`.
 *
 * - `system` (a string or text blocks, joined with "\n") → the first `system` message;
 *   a mid-conversation `role: "system"` turn → a `system` message in its place;
 * - user turns: `tool_result` blocks → `role: "tool"` messages, in order, before
 *   the rest of the turn (`is_error: true` kept on the tool message); text → text
 *   (one text block: a string, else parts); images → `image_url` parts (base64 → a
 *   `data:` URL, a `url` source → that URL); documents → a `file` part (base64 PDF)
 *   or text parts (text and content sources);
 * - assistant turns: text → `content`, `tool_use` → `tool_calls` (input as JSON text),
 *   `thinking` → `reasoning_content`; `redacted_thinking` is left out;
 * - `tools` with an `input_schema` → function tools; `tool_choice` auto/any/tool/none →
 *   `auto`/`required`/the named function/`none`, `disable_parallel_tool_use` →
 *   `parallel_tool_calls: false`;
 * - `max_tokens`, `stop_sequences` → `stop`, `temperature`, `top_p`, `top_k`,
 *   `stream`, `metadata.user_id` → `user`.
 *
 * What chat cannot carry (`thinking`, `cache_control`, signatures, Anthropic's
 * own tool types, `context_management`, any unknown field) stays only in the
 * body as received. The translation is deterministic: the same history always
 * gives the same chat messages, so turns of one conversation thread in the
 * record.
 */
import type { ChatCompletionRequest, ChatMessage } from "../chat-request.js";
import { invalidRequest } from "../errors.js";
import type {
  ContentBlock,
  CountTokensRequest,
  DocumentBlock,
  ImageBlock,
  MessageParam,
  MessagesRequest,
  TextBlock,
  ThinkingBlock,
  ToolChoice,
  ToolDefinition,
  ToolResultBlock,
  ToolUseBlock,
} from "./messages-request.js";

/** A chat content part as built here (text, image_url, file). */
type ChatPart = { type: "text"; text: string } | { type: string; [key: string]: unknown };

/**
 * The chat request of a `/v1/messages` body (model as the client named it).
 * @throws RelayError 400 naming the field for what chat cannot express (a Files API `file` source, a document by URL)
 */
export function messagesToChat(request: MessagesRequest): ChatCompletionRequest {
  const chat: ChatCompletionRequest = {
    model: request.model,
    messages: chatMessages(request),
    max_tokens: request.max_tokens,
  };
  if (request.stream === true) chat.stream = true;
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.top_p !== undefined) chat.top_p = request.top_p;
  if (request.top_k !== undefined) chat.top_k = request.top_k;
  if (request.stop_sequences && request.stop_sequences.length > 0) chat.stop = request.stop_sequences;
  if (typeof request.metadata?.user_id === "string" && request.metadata.user_id !== "")
    chat.user = request.metadata.user_id;
  Object.assign(chat, toolFields(request.tools, request.tool_choice));
  return chat;
}

/**
 * The chat messages and tools of a `/v1/messages/count_tokens` body (what the
 * prompt's tokens are counted over).
 * @throws RelayError 400 as {@link messagesToChat}
 */
export function countTokensToChat(request: CountTokensRequest): { messages: ChatMessage[]; tools?: unknown } {
  return { messages: chatMessages(request), ...toolFields(request.tools, request.tool_choice) };
}

/** The system message, then every turn's messages in order. */
function chatMessages(request: CountTokensRequest): ChatMessage[] {
  const messages: ChatMessage[] = [];
  const system = systemText(request.system);
  if (system !== null) messages.push({ role: "system", content: system });
  request.messages.forEach((turn, i) => messages.push(...turnMessages(turn, `messages.${i}`)));
  return messages;
}

/** The top-level `system` as one text (blocks joined with "\n"), or null when there is none. */
function systemText(system: CountTokensRequest["system"]): string | null {
  if (system === undefined) return null;
  if (typeof system === "string") return system === "" ? null : system;
  if (system.length === 0) return null;
  return system.map((block) => block.text).join("\n");
}

/** The chat messages of one turn. */
function turnMessages(turn: MessageParam, param: string): ChatMessage[] {
  if (turn.role === "system") {
    const text = typeof turn.content === "string" ? turn.content : textOf(turn.content);
    return [{ role: "system", content: text }];
  }
  if (typeof turn.content === "string") return [{ role: turn.role, content: turn.content }];
  return turn.role === "assistant" ? [assistantMessage(turn.content)] : userMessages(turn.content, `${param}.content`);
}

/** The text of blocks: their text blocks joined with "\n". */
function textOf(blocks: readonly ContentBlock[]): string {
  return blocks
    .filter((block): block is TextBlock => block.type === "text")
    .map((block) => block.text)
    .join("\n");
}

/** An assistant turn: its text, tool calls and thinking. */
function assistantMessage(blocks: readonly ContentBlock[]): ChatMessage {
  const texts: string[] = [];
  const thinking: string[] = [];
  const calls: { id: string; type: "function"; function: { name: string; arguments: string } }[] = [];
  for (const block of blocks) {
    if (block.type === "text") texts.push((block as TextBlock).text);
    else if (block.type === "thinking") thinking.push((block as ThinkingBlock).thinking);
    else if (block.type === "tool_use") {
      const use = block as ToolUseBlock;
      calls.push({ id: use.id, type: "function", function: { name: use.name, arguments: JSON.stringify(use.input) } });
    }
  }
  const message: ChatMessage = { role: "assistant", content: texts.length > 0 ? texts.join("") : null };
  if (calls.length > 0) message.tool_calls = calls;
  if (thinking.length > 0) message.reasoning_content = thinking.join("\n");
  return message;
}

/** A user turn: a `tool` message per `tool_result` block, then one user message with the other blocks (if any). */
function userMessages(blocks: readonly ContentBlock[], param: string): ChatMessage[] {
  const tools: ChatMessage[] = [];
  const parts: ChatPart[] = [];
  blocks.forEach((block, j) => {
    const where = `${param}.${j}`;
    if (block.type === "tool_result") tools.push(toolMessage(block as ToolResultBlock, where));
    else parts.push(...userParts(block, where));
  });
  if (parts.length === 0) return tools;
  const only = parts[0];
  const content = parts.length === 1 && only?.type === "text" ? (only as { text: string }).text : parts;
  return [...tools, { role: "user", content }];
}

/** The chat parts of one block of a user turn (or of a tool result); blocks chat has no place for give none. */
function userParts(block: ContentBlock, param: string): ChatPart[] {
  switch (block.type) {
    case "text":
      return [{ type: "text", text: (block as TextBlock).text }];
    case "image":
      return [imagePart(block as ImageBlock, param)];
    case "document":
      return documentParts(block as DocumentBlock, param);
    default:
      return [];
  }
}

/** An image block as an `image_url` part. */
function imagePart(block: ImageBlock, param: string): ChatPart {
  const source = block.source;
  if (source.type === "base64")
    return { type: "image_url", image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  if (source.type === "url") return { type: "image_url", image_url: { url: source.url } };
  throw invalidRequest(
    `${param}.source.type: an image from the Files API (source type 'file') cannot be sent to this model's deployment, which does not speak the Messages API; send it as base64 or a URL.`,
    `${param}.source.type`,
  );
}

/** A document block: a base64 PDF as a `file` part, a text or content document as text. */
function documentParts(block: DocumentBlock, param: string): ChatPart[] {
  const source = block.source;
  const title = typeof block.title === "string" && block.title !== "" ? block.title : null;
  switch (source.type) {
    case "base64":
      return [
        {
          type: "file",
          file: {
            ...(title ? { filename: title } : {}),
            file_data: `data:${source.media_type};base64,${source.data}`,
          },
        },
      ];
    case "text":
      return [{ type: "text", text: title ? `${title}\n\n${source.data}` : source.data }];
    case "content": {
      const content = source.content;
      if (typeof content === "string") return [{ type: "text", text: content }];
      return content.flatMap((inner, k) => userParts(inner, `${param}.source.content.${k}`));
    }
    default:
      throw invalidRequest(
        `${param}.source.type: a document with source type '${source.type}' cannot be sent to this model's deployment, which does not speak the Messages API; send it as base64 or text.`,
        `${param}.source.type`,
      );
  }
}

/** A `tool_result` block as a `tool` message: a string as it is, text blocks as one text, other blocks as parts. */
function toolMessage(block: ToolResultBlock, param: string): ChatMessage {
  const message: ChatMessage = { role: "tool", tool_call_id: block.tool_use_id, content: toolContent(block, param) };
  if (block.is_error === true) message.is_error = true;
  return message;
}

function toolContent(block: ToolResultBlock, param: string): ChatMessage["content"] {
  const content = block.content;
  if (content === undefined) return "";
  if (typeof content === "string") return content;
  const parts = content.flatMap((inner, k) => userParts(inner, `${param}.content.${k}`));
  if (parts.every((part) => part.type === "text"))
    return parts.map((part) => (part as { text: string }).text).join("\n");
  return parts;
}

/** `tools`, `tool_choice` and `parallel_tool_calls` of the chat request (none when no tool can be translated). */
function toolFields(
  tools: readonly ToolDefinition[] | undefined,
  choice: ToolChoice | undefined,
): Record<string, unknown> {
  const functions = (tools ?? []).flatMap((tool) => {
    // Anthropic's own tools (bash, text editor, web search, …) have no schema a chat model could use.
    if (!tool.input_schema) return [];
    return [
      {
        type: "function",
        function: {
          name: tool.name,
          ...(typeof tool.description === "string" ? { description: tool.description } : {}),
          parameters: tool.input_schema,
        },
      },
    ];
  });
  if (functions.length === 0) return {};
  const out: Record<string, unknown> = { tools: functions };
  if (!choice) return out;
  switch (choice.type) {
    case "auto":
      out.tool_choice = "auto";
      break;
    case "any":
      out.tool_choice = "required";
      break;
    case "tool":
      out.tool_choice = { type: "function", function: { name: choice.name } };
      break;
    case "none":
      out.tool_choice = "none";
      break;
  }
  if ("disable_parallel_tool_use" in choice && choice.disable_parallel_tool_use === true)
    out.parallel_tool_calls = false;
  return out;
}
