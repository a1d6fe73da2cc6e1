/**
 * OpenAI chat messages as `llm` 0.32 messages (`{role, parts}`), the
 * shape its message store hashes and stores (see docs/llm-logs-db.md,
 * "Message store"). Keys are created in the order llm's
 * `Part.to_dict()` writes them, because `parts.payload` keeps that order.
 */
import type { ChatMessage } from "../protocol/chat-request.js";
import type { RecordedToolCall } from "./types.js";
import { pythonJsonDumps } from "./message-hash.js";

/** Literal text (`TextPart`). */
export interface LlmTextPart {
  type: "text";
  text: string;
}

/**
 * Reasoning text of an assistant reply (`ReasoningPart`; 0.32's `to_dict()`
 * is `{"type": "reasoning", "text": …}`, stored with the text in
 * `parts.text` and a NULL payload).
 */
export interface LlmReasoningPart {
  type: "reasoning";
  text: string;
}

/** A tool call made by the assistant (`ToolCallPart`). */
export interface LlmToolCallPart {
  type: "tool_call";
  name: string;
  /** The parsed arguments object, or the raw string when it is not a JSON object. */
  arguments: unknown;
  tool_call_id?: string;
}

/** The result of a tool call (`ToolResultPart`), in a `role: "tool"` message. */
export interface LlmToolResultPart {
  type: "tool_result";
  name: string;
  output: string;
  tool_call_id?: string;
}

/** One part of an llm message. */
export type LlmPart = LlmTextPart | LlmReasoningPart | LlmToolCallPart | LlmToolResultPart;

/** An llm message: `Message.to_dict()` without provider metadata. */
export interface LlmMessage {
  role: "system" | "user" | "assistant" | "tool";
  parts: LlmPart[];
}

/** One text part per text item of `content` (a string is one item); non-text parts are dropped. */
function textParts(content: ChatMessage["content"]): LlmTextPart[] {
  if (content == null) return [];
  if (typeof content === "string") return [{ type: "text", text: content }];
  return content
    .filter((part) => part.type === "text" && typeof part.text === "string")
    .map((part) => ({ type: "text", text: part.text as string }));
}

/** Tool arguments as llm stores them: the parsed object, `{}` for none, else the raw string. */
export function parseToolArguments(raw: string | undefined): unknown {
  if (raw === undefined || raw.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
  } catch {
    // not JSON: keep the string as the model produced it
  }
  return raw;
}

function toolCallPart(name: string, rawArguments: string | undefined, id: string | undefined): LlmToolCallPart {
  const part: LlmToolCallPart = { type: "tool_call", name, arguments: parseToolArguments(rawArguments) };
  if (id !== undefined) part.tool_call_id = id;
  return part;
}

/** An assistant message: its non-empty text parts, then one `tool_call` part per call. */
function assistantMessage(text: LlmTextPart[], calls: LlmToolCallPart[]): LlmMessage {
  return { role: "assistant", parts: [...text.filter((p) => p.text !== ""), ...calls] };
}

/**
 * Converts validated OpenAI messages to llm messages, one for one:
 * - `system`/`developer` → `system`, `user` → `user`: one text part per text item;
 *   images and other non-text parts are not stored here (they stay in `prompt_json`);
 * - `assistant` → its text (omitted when empty) followed by `tool_call` parts
 *   `{name, arguments, tool_call_id}`;
 * - `tool` (and legacy `function`) → `tool` with one `tool_result` part
 *   `{name, output, tool_call_id}`; the name comes from the earlier call with
 *   that id (`""` when none is found).
 */
export function toLlmMessages(messages: readonly ChatMessage[]): LlmMessage[] {
  const toolNames = new Map<string, string>();
  const out: LlmMessage[] = [];
  for (const message of messages) {
    switch (message.role) {
      case "system":
      case "developer":
        out.push({ role: "system", parts: textParts(message.content) });
        break;
      case "user":
        out.push({ role: "user", parts: textParts(message.content) });
        break;
      case "assistant": {
        const calls = (message.tool_calls ?? []).map((call) => {
          if (call.id !== undefined) toolNames.set(call.id, call.function.name);
          return toolCallPart(call.function.name, call.function.arguments, call.id);
        });
        out.push(assistantMessage(textParts(message.content), calls));
        break;
      }
      case "tool":
      case "function": {
        const id = message.tool_call_id;
        const name = (id !== undefined ? toolNames.get(id) : undefined) ?? message.name ?? "";
        const part: LlmToolResultPart = {
          type: "tool_result",
          name,
          output: textParts(message.content)
            .map((p) => p.text)
            .join(""),
        };
        if (id !== undefined) part.tool_call_id = id;
        out.push({ role: "tool", parts: [part] });
        break;
      }
    }
  }
  return out;
}

/**
 * The assistant reply of an exchange as an llm message, or null when the
 * reply has no reasoning, no text and no tool calls. Parts in the order
 * llm 0.32 writes them: the `reasoning` part first, then the text, then
 * one `tool_call` part per call.
 * @param responseText the reply text (may be partial)
 * @param toolCalls the tool calls of the reply, arguments JSON-encoded
 * @param reasoning the reply's reasoning text (`reasoning_content`…), null/absent/"" when none
 */
export function replyToLlmMessage(
  responseText: string,
  toolCalls: readonly RecordedToolCall[],
  reasoning?: string | null,
): LlmMessage | null {
  const hasReasoning = reasoning !== undefined && reasoning !== null && reasoning !== "";
  if (responseText === "" && toolCalls.length === 0 && !hasReasoning) return null;
  const calls = toolCalls.map((call) => toolCallPart(call.name, call.arguments, call.id));
  const message = assistantMessage([{ type: "text", text: responseText }], calls);
  if (hasReasoning) message.parts.unshift({ type: "reasoning", text: reasoning });
  return message;
}

/**
 * The message as a client sends it back in its next request: without its
 * `reasoning` parts (OpenAI-style clients drop `reasoning_content` from the
 * history). The same object when it has none.
 */
export function withoutReasoning(message: LlmMessage): LlmMessage {
  if (!message.parts.some((p) => p.type === "reasoning")) return message;
  return { role: message.role, parts: message.parts.filter((p) => p.type !== "reasoning") };
}

/** The concatenated text of a message's reasoning parts, or null when it has none. */
export function reasoningText(message: LlmMessage): string | null {
  const parts = message.parts.filter((p): p is LlmReasoningPart => p.type === "reasoning");
  return parts.length > 0 ? parts.map((p) => p.text).join("") : null;
}

/** The concatenated text of a message's text parts (llm's `_text_of`). */
export function messageText(message: LlmMessage): string {
  return message.parts.map((p) => (p.type === "text" ? p.text : "")).join("");
}

/**
 * The `parts` columns of a part, as 0.32's `LogStore._write_part` fills them:
 * the text of a `text` or `reasoning` part in `text` (payload NULL, since
 * nothing else is left of its `to_dict()`); any other part's `to_dict()`
 * without `type` as `json.dumps` payload, its `name` in `tool_name`.
 */
export function partColumns(part: LlmPart): { toolName: string | null; text: string | null; payload: string | null } {
  if (part.type === "text" || part.type === "reasoning") return { toolName: null, text: part.text, payload: null };
  const rest: Partial<typeof part> = { ...part };
  delete rest.type;
  return { toolName: part.name, text: null, payload: pythonJsonDumps(rest) };
}
