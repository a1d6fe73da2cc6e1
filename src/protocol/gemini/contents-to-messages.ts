/**
 * A Gemini request's `systemInstruction` and `contents`
 * (https://ai.google.dev/api/generate-content#request-body,
 * https://ai.google.dev/api/caching#Content) → Chat Completions messages
 * (https://platform.openai.com/docs/api-reference/chat/create):
 *
 * - `systemInstruction`'s text parts, joined with "\n" → the first `system` message;
 * - a `user` turn → `tool` messages for its `functionResponse` parts (in order, first),
 *   then one `user` message with its other parts (one text part: a string; else
 *   parts: `text`, media through `media-parts.ts`);
 * - a `model` turn → one `assistant` message: its text parts → `content`, its
 *   `thought: true` text parts → `reasoning_content`, its `functionCall` parts →
 *   `tool_calls` (`args` as JSON text).
 *
 * Function calls and their responses are paired by id: a `functionCall` keeps
 * its `id`, or gets `call_<content index>_<part index>` (the same on every turn
 * of a conversation, so its history threads in the record); a
 * `functionResponse` answers the call with its `id`, else the earliest
 * unanswered call of its `name` (clients that made their own ids, or none).
 * Parts chat has no place for (`executableCode`, `codeExecutionResult`, media in
 * a model turn) are left out; they stay in the record's `prompt_json`.
 */
import type { ChatMessage } from "../chat-request.js";
import type { GeminiContent, GeminiPart } from "./gemini-request.js";
import { fileDataPart, inlineDataPart, type ChatPart } from "./media-parts.js";

/** A function call seen in a model turn, waiting for its response. */
interface PendingCall {
  id: string;
  name: string;
  answered: boolean;
}

/**
 * The chat messages of a request's system instruction and contents.
 * @throws RelayError 400 naming the part for media chat cannot carry
 */
export function contentsToMessages(
  systemInstruction: GeminiContent | undefined,
  contents: readonly GeminiContent[],
): ChatMessage[] {
  const messages: ChatMessage[] = [];
  const system = systemInstruction ? textOf(systemInstruction.parts, "\n") : "";
  if (system !== "") messages.push({ role: "system", content: system });
  const calls: PendingCall[] = [];
  contents.forEach((turn, i) => {
    if (turn.role === "model") messages.push(assistantMessage(turn.parts, i, calls));
    else messages.push(...userMessages(turn.parts, i, calls));
  });
  return messages;
}

/** The text of the (non-thought) text parts, joined with `separator`. */
function textOf(parts: readonly GeminiPart[], separator: string): string {
  return parts
    .filter((part) => typeof part.text === "string" && part.thought !== true)
    .map((part) => part.text)
    .join(separator);
}

/** A model turn: its text, reasoning and function calls (each call added to `calls`). */
function assistantMessage(parts: readonly GeminiPart[], turn: number, calls: PendingCall[]): ChatMessage {
  const texts: string[] = [];
  const thoughts: string[] = [];
  const toolCalls: { id: string; type: "function"; function: { name: string; arguments: string } }[] = [];
  parts.forEach((part, j) => {
    if (part.functionCall) {
      const call = part.functionCall;
      const id = call.id !== undefined && call.id !== "" ? call.id : `call_${turn}_${j}`;
      calls.push({ id, name: call.name, answered: false });
      toolCalls.push({
        id,
        type: "function",
        function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
      });
    } else if (typeof part.text === "string") (part.thought === true ? thoughts : texts).push(part.text);
  });
  const message: ChatMessage = { role: "assistant", content: texts.length > 0 ? texts.join("") : null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (thoughts.length > 0) message.reasoning_content = thoughts.join("");
  return message;
}

/** A user turn: a `tool` message per function response, then one `user` message with the other parts (if any). */
function userMessages(parts: readonly GeminiPart[], turn: number, calls: PendingCall[]): ChatMessage[] {
  const tools: ChatMessage[] = [];
  const chatParts: ChatPart[] = [];
  parts.forEach((part, j) => {
    const param = `contents[${turn}].parts[${j}]`;
    if (part.functionResponse) {
      const response = part.functionResponse;
      tools.push({
        role: "tool",
        tool_call_id: answeredCallId(response, calls, `call_${turn}_${j}`),
        content: responseText(response.response),
      });
    } else if (part.inlineData) chatParts.push(inlineDataPart(part.inlineData, param));
    else if (part.fileData) chatParts.push(fileDataPart(part.fileData, param));
    else if (typeof part.text === "string" && part.thought !== true) chatParts.push({ type: "text", text: part.text });
  });
  if (chatParts.length === 0) return tools;
  const only = chatParts[0];
  const content = chatParts.length === 1 && only?.type === "text" ? (only as { text: string }).text : chatParts;
  return [...tools, { role: "user", content }];
}

/** The id of the call a function response answers (marking it answered), or `fallback` when it answers none seen. */
function answeredCallId(response: { id?: string | undefined; name: string }, calls: PendingCall[], fallback: string) {
  const byId = response.id ? calls.find((call) => call.id === response.id) : undefined;
  const call = byId ?? calls.find((c) => !c.answered && c.name === response.name);
  if (!call) return response.id || fallback;
  call.answered = true;
  return call.id;
}

/**
 * A function response's `response` as the tool message's text: a lone string `output` (what Gemini CLI
 * sends for a tool's result) as it is, anything else as JSON text.
 */
function responseText(response: Record<string, unknown> | null | undefined): string {
  if (!response) return "";
  const keys = Object.keys(response);
  if (keys.length === 1 && keys[0] === "output" && typeof response.output === "string") return response.output;
  return JSON.stringify(response);
}
