/**
 * An Ollama `POST /api/chat` or `POST /api/generate` request
 * (https://github.com/ollama/ollama/blob/main/docs/api.md) → the Chat
 * Completions request (https://platform.openai.com/docs/api-reference/chat/create)
 * every deployment gets, and the record's llm rows are built from. The reverse
 * of `providers/ollama/ollama-messages.ts`.
 *
 * - messages keep their role and `content`; `images` (base64) → `image_url` parts
 *   with a `data:` URL (the media type read from the image's first bytes);
 * - an assistant's `tool_calls` (arguments an object) → chat `tool_calls` (arguments
 *   as JSON text), each with its `id`, else `call_<message>_<call>`; its `thinking`
 *   → `reasoning_content`;
 * - a `tool` message → `role: "tool"` answering the call its `tool_call_id` names,
 *   else the earliest unanswered call of the last assistant message with its
 *   `tool_name`, else the earliest unanswered one;
 * - `tools` (function tools) → `tools`; `options`, `format`, `think`, `logprobs`: options-to-chat.ts;
 * - `/api/generate`: `system` → a system message, `prompt` (and `images`) → one user
 *   message. Ollama would render the prompt through the model's template; here every
 *   backend gets it as one chat turn. `raw: true` is accepted and the prompt still goes
 *   as that turn (no template is applied either way); `template` and the deprecated
 *   `context` are accepted and ignored (no `context` is ever answered); a `suffix`
 *   (fill-in-the-middle) is refused with 400, as chat cannot ask for it.
 *
 * The translation is deterministic, so turns of one conversation thread in the record.
 */
import type { ChatCompletionRequest, ChatMessage } from "../chat-request.js";
import { invalidRequest } from "../errors.js";
import { formatToChat, logprobsToChat, optionsToChat, thinkToChat } from "./options-to-chat.js";
import type {
  OllamaChatRequest,
  OllamaGenerateRequest,
  OllamaMessage,
  OllamaTool,
  OllamaToolCall,
} from "./ollama-request.js";

/** A chat content part as built here. */
type ChatPart = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };

/** The chat request of an `/api/chat` body (model as the client named it). */
export function ollamaChatToChat(request: OllamaChatRequest): ChatCompletionRequest {
  const chat: ChatCompletionRequest = { model: request.model, messages: chatMessages(request.messages) };
  const tools = functionTools(request.tools);
  if (tools.length > 0) chat.tools = tools;
  return withSettings(chat, request);
}

/**
 * The chat request of an `/api/generate` body: its `system` and `prompt` as two turns.
 * @throws RelayError 400 for a `suffix` (fill-in-the-middle has no chat equivalent)
 */
export function ollamaGenerateToChat(request: OllamaGenerateRequest): ChatCompletionRequest {
  if (typeof request.suffix === "string" && request.suffix !== "")
    throw invalidRequest(
      "suffix: fill-in-the-middle is not supported by llm-relay's /api/generate (every backend gets the prompt as a chat turn); send the prompt without a suffix, or use POST /v1/completions",
      "suffix",
    );
  const messages: ChatMessage[] = [];
  if (typeof request.system === "string" && request.system !== "")
    messages.push({ role: "system", content: request.system });
  messages.push({ role: "user", content: contentOf(request.prompt, request.images) });
  return withSettings({ model: request.model, messages }, request);
}

/** Adds `stream`, the sampling options, `response_format` and `reasoning_effort`. */
function withSettings(
  chat: ChatCompletionRequest,
  request: OllamaChatRequest | OllamaGenerateRequest,
): ChatCompletionRequest {
  // Ollama streams unless told not to.
  if (request.stream !== false) chat.stream = true;
  Object.assign(chat, optionsToChat(request.options));
  const responseFormat = formatToChat(request.format);
  if (responseFormat) chat.response_format = responseFormat;
  const effort = thinkToChat(request.think);
  if (effort) chat.reasoning_effort = effort;
  Object.assign(chat, logprobsToChat(request.logprobs, request.top_logprobs));
  return chat;
}

/** The chat messages of `/api/chat`'s messages, in order. */
function chatMessages(messages: readonly OllamaMessage[]): ChatMessage[] {
  /** The calls of the latest assistant message, and whether a tool message answered each. */
  let pending: { id: string; name: string; answered: boolean }[] = [];
  return messages.map((message, i) => {
    switch (message.role) {
      case "assistant": {
        const out = assistantMessage(message, i);
        pending = (out.tool_calls ?? []).map((call) => ({
          id: call.id ?? "",
          name: call.function.name,
          answered: false,
        }));
        return out;
      }
      case "tool": {
        const explicit = message.tool_call_id ?? null;
        const call = explicit
          ? pending.find((c) => c.id === explicit)
          : (pending.find((c) => !c.answered && c.name === message.tool_name) ?? pending.find((c) => !c.answered));
        if (call) call.answered = true;
        return { role: "tool", tool_call_id: explicit ?? call?.id ?? `call_${i}`, content: message.content ?? "" };
      }
      default:
        return { role: message.role, content: contentOf(message.content ?? "", message.images) };
    }
  });
}

/** An assistant message: its text, tool calls (arguments as JSON text) and thinking. */
function assistantMessage(message: OllamaMessage, index: number): ChatMessage {
  const calls = (message.tool_calls ?? []).map((call, j) => chatToolCall(call, index, j));
  const text = message.content ?? "";
  const out: ChatMessage = { role: "assistant", content: text === "" && calls.length > 0 ? null : text };
  if (calls.length > 0) out.tool_calls = calls;
  if (typeof message.thinking === "string" && message.thinking !== "") out.reasoning_content = message.thinking;
  return out;
}

function chatToolCall(
  call: OllamaToolCall,
  index: number,
  j: number,
): { id: string; type: "function"; function: { name: string; arguments: string } } {
  const args = call.function.arguments;
  return {
    id: call.id ?? `call_${index}_${j}`,
    type: "function",
    function: { name: call.function.name, arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}) },
  };
}

/** A text with images: the text alone, or a text part then one `image_url` part per image. */
function contentOf(text: string, images: readonly string[] | null | undefined): ChatMessage["content"] {
  if (!images || images.length === 0) return text;
  const parts: ChatPart[] = [];
  if (text !== "") parts.push({ type: "text", text });
  for (const image of images) parts.push({ type: "image_url", image_url: { url: dataUrl(image) } });
  return parts;
}

/** Magic numbers of the image formats, as the start of their base64 text. */
const IMAGE_SIGNATURES: readonly [string, string][] = [
  ["iVBORw0KGgo", "image/png"],
  ["/9j/", "image/jpeg"],
  ["R0lGOD", "image/gif"],
  ["UklGR", "image/webp"],
  ["Qk", "image/bmp"],
];

/** A base64 image as a `data:` URL (an image already given as a `data:` URL is kept). */
function dataUrl(image: string): string {
  if (image.startsWith("data:")) return image;
  const type = IMAGE_SIGNATURES.find(([prefix]) => image.startsWith(prefix))?.[1] ?? "image/png";
  return `data:${type};base64,${image}`;
}

/** The function tools of `tools` (Ollama has no other kind). */
function functionTools(tools: readonly OllamaTool[] | null | undefined): unknown[] {
  return (tools ?? [])
    .filter((tool) => tool.type === "function")
    .map((tool) => ({ type: "function", function: tool.function }));
}
