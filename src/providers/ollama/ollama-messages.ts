/**
 * OpenAI chat messages → Ollama `/api/chat` messages, and Ollama tool calls
 * → OpenAI tool calls. Follows docs/api.md ("Generate a chat completion":
 * `images`, `tool_calls`, `tool_name`) and docs/capabilities/tool-calling.mdx
 * of github.com/ollama/ollama; the same conversions as Ollama's own
 * OpenAI layer (openai/openai.go `FromChatRequest`, `ToToolCalls`).
 */
import { randomUUID } from "node:crypto";
import type { AssistantMessage } from "../../protocol/chat-completion.js";
import { contentText, type ChatMessage } from "../../protocol/chat-request.js";
import { invalidRequest } from "../../protocol/errors.js";
import type { OllamaMessage, OllamaToolCall } from "./ollama-types.js";

/** An OpenAI tool call of a completion. */
export type OpenAIToolCall = NonNullable<AssistantMessage["tool_calls"]>[number];

const DATA_URL = /^data:[^;,]*;base64,(.*)$/s;

/** The base64 payload of an `image_url` content part. */
function imageData(part: Record<string, unknown>, index: number): string {
  const image = part.image_url;
  const url =
    typeof image === "string"
      ? image
      : typeof (image as { url?: unknown } | undefined)?.url === "string"
        ? (image as { url: string }).url
        : null;
  const match = url === null ? null : DATA_URL.exec(url);
  if (!match) {
    throw invalidRequest(
      "Ollama accepts images only as base64 data URLs (data:image/png;base64,…), not as links",
      `messages.${index}.content`,
    );
  }
  return match[1]!;
}

/** Parses OpenAI's JSON-string `arguments` into the object Ollama expects. */
function toolArguments(text: string | undefined, index: number): Record<string, unknown> {
  if (text === undefined || text.trim() === "") return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw invalidRequest("Tool call arguments must be a JSON object", `messages.${index}.tool_calls`);
}

/** The name of the tool whose call has id `id`, searching the assistant messages from the end. */
function toolNameOf(messages: readonly ChatMessage[], id: string | undefined): string | undefined {
  if (!id) return undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    const call = messages[i]!.tool_calls?.find((c) => c.id === id);
    if (call) return call.function.name;
  }
  return undefined;
}

/**
 * Converts the messages of an OpenAI request. `developer` becomes `system`;
 * the legacy `function` role becomes `tool`; a `tool` message gets
 * `tool_name` from its `name` or from the call its `tool_call_id` answers;
 * text parts are joined; `image_url` parts with base64 data URLs go to
 * `images`; assistant `tool_calls` get their arguments as objects.
 * @throws RelayError 400 for an image given as a link, or tool-call arguments that are not a JSON object
 */
export function toOllamaMessages(messages: readonly ChatMessage[]): OllamaMessage[] {
  return messages.map((message, index) => {
    const role = message.role === "developer" ? "system" : message.role === "function" ? "tool" : message.role;
    const out: OllamaMessage = { role, content: contentText(message.content) };
    if (Array.isArray(message.content)) {
      const images = message.content.filter((part) => part.type === "image_url").map((part) => imageData(part, index));
      if (images.length > 0) out.images = images;
    }
    if (message.tool_calls?.length) {
      out.tool_calls = message.tool_calls.map((call, i) => ({
        type: "function",
        function: { index: i, name: call.function.name, arguments: toolArguments(call.function.arguments, index) },
      }));
    }
    if (role === "tool") {
      const name = message.name ?? toolNameOf(messages, message.tool_call_id);
      if (name) out.tool_name = name;
    }
    return out;
  });
}

/** Ollama tool calls as OpenAI ones: arguments as a JSON string, an id (Ollama's, else a new `call_…`). */
export function toOpenAIToolCalls(calls: readonly OllamaToolCall[]): OpenAIToolCall[] {
  return calls.map((call) => ({
    id: call.id ?? `call_${randomUUID().replace(/-/g, "").slice(0, 24)}`,
    type: "function",
    function: { name: call.function.name, arguments: JSON.stringify(call.function.arguments ?? {}) },
  }));
}
