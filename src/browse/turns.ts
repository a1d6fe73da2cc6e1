/**
 * A recorded exchange as chat, for the conversation browser: `responses.prompt_json` (the request
 * as the client sent it, in its inbound protocol — Chat Completions, Anthropic Messages, OpenAI
 * Responses, Ollama, Gemini, legacy completions — a history row's `{"messages": […]}`, or a reduced
 * record's `llm_relay_reduced`) and `response_json` (a chat completion, an assembled stream, or an
 * error body) → {@link UiMessage}s.
 *
 * Formats read: https://platform.openai.com/docs/api-reference/chat/create,
 * https://docs.anthropic.com/en/api/messages, https://platform.openai.com/docs/api-reference/responses/create,
 * https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion,
 * https://ai.google.dev/api/generate-content. Anything unknown is skipped, never thrown on.
 */
import type { UiMessage, UiPart } from "./types.js";

type Json = Record<string, unknown>;
type Role = UiMessage["role"];

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const asText = (v: unknown): string => (typeof v === "string" ? v : v === undefined ? "" : JSON.stringify(v));

/** Parses recorded JSON text; null when absent or not JSON. */
export function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function role(v: unknown): Role {
  switch (v) {
    case "system":
    case "developer":
    case "assistant":
    case "tool":
      return v;
    case "model":
      return "assistant";
    case "function":
      return "tool";
    default:
      return "user";
  }
}

/** A `data:` URL of base64 `data` (Anthropic, Gemini and Ollama images). */
const dataUrl = (mime: unknown, data: unknown): string | null =>
  typeof data === "string" ? `data:${str(mime) ?? "image/png"};base64,${data}` : null;

/** The parts of one content block of any of the protocols. */
function blockParts(block: unknown): UiPart[] {
  if (typeof block === "string") return block === "" ? [] : [{ type: "text", text: block }];
  if (!isObject(block)) return [];
  const type = str(block.type);
  switch (type) {
    case "text":
    case "input_text":
    case "output_text":
      return [{ type: "text", text: asText(block.text) }];
    case "thinking":
      return [{ type: "reasoning", text: asText(block.thinking) }];
    case "reasoning":
      return [{ type: "reasoning", text: summaryText(block) }];
    case "image_url": {
      const url = isObject(block.image_url) ? str(block.image_url.url) : str(block.image_url);
      return url ? [{ type: "image", url }] : [];
    }
    case "input_image": {
      const url = str(block.image_url);
      return url ? [{ type: "image", url }] : [];
    }
    case "image": {
      const src = isObject(block.source) ? block.source : {};
      const url = src.type === "url" ? str(src.url) : dataUrl(src.media_type, src.data);
      return url ? [{ type: "image", url }] : [];
    }
    case "tool_use":
      return [{ type: "tool_call", id: str(block.id), name: asText(block.name), arguments: asText(block.input) }];
    case "function_call":
      return [
        {
          type: "tool_call",
          id: str(block.call_id) ?? str(block.id),
          name: asText(block.name),
          arguments: asText(block.arguments),
        },
      ];
    case "tool_result":
      return [
        { type: "tool_result", toolCallId: str(block.tool_use_id), name: null, content: contentText(block.content) },
      ];
    case "function_call_output":
      return [{ type: "tool_result", toolCallId: str(block.call_id), name: null, content: asText(block.output) }];
    default:
      break;
  }
  // Gemini parts have no type.
  if (typeof block.text === "string")
    return [{ type: block.thought === true ? "reasoning" : "text", text: block.text }];
  if (isObject(block.inlineData)) {
    const url = dataUrl(block.inlineData.mimeType, block.inlineData.data);
    return url ? [{ type: "image", url }] : [];
  }
  if (isObject(block.functionCall))
    return [
      {
        type: "tool_call",
        id: str(block.functionCall.id),
        name: asText(block.functionCall.name),
        arguments: asText(block.functionCall.args ?? {}),
      },
    ];
  if (isObject(block.functionResponse))
    return [
      {
        type: "tool_result",
        toolCallId: str(block.functionResponse.id),
        name: str(block.functionResponse.name),
        content: asText(block.functionResponse.response),
      },
    ];
  return [];
}

/** A Responses reasoning item's summary (or content) text. */
function summaryText(item: Json): string {
  const parts = Array.isArray(item.summary) ? item.summary : Array.isArray(item.content) ? item.content : [];
  return parts.map((p) => (isObject(p) ? asText(p.text) : asText(p))).join("\n");
}

/** A tool result's content as text (a string, or blocks whose text is joined). */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content.map((b) => (isObject(b) && typeof b.text === "string" ? b.text : asText(b))).join("\n");
  return asText(content);
}

function contentParts(content: unknown): UiPart[] {
  if (Array.isArray(content)) return content.flatMap(blockParts);
  return blockParts(content);
}

/** One chat-shaped message (Chat Completions, Anthropic, Ollama, a Responses message item, a Gemini content). */
function chatMessage(m: Json): UiMessage {
  const r = role(m.role);
  const parts: UiPart[] = [];
  const reasoning = str(m.reasoning_content) ?? str(m.reasoning) ?? str(m.thinking);
  if (reasoning) parts.push({ type: "reasoning", text: reasoning });
  if (r === "tool") {
    parts.push({
      type: "tool_result",
      toolCallId: str(m.tool_call_id),
      name: str(m.name),
      content: contentText(m.content),
    });
    return { role: r, parts };
  }
  parts.push(...contentParts(m.content ?? m.parts));
  if (Array.isArray(m.images))
    for (const image of m.images) {
      const url = typeof image === "string" && image.startsWith("data:") ? image : dataUrl("image/png", image);
      if (url) parts.push({ type: "image", url });
    }
  if (Array.isArray(m.tool_calls))
    for (const call of m.tool_calls) {
      if (!isObject(call)) continue;
      const fn = isObject(call.function) ? call.function : {};
      parts.push({ type: "tool_call", id: str(call.id), name: asText(fn.name), arguments: asText(fn.arguments) });
    }
  if (isObject(m.function_call))
    parts.push({
      type: "tool_call",
      id: null,
      name: asText(m.function_call.name),
      arguments: asText(m.function_call.arguments),
    });
  // Anthropic's tool results come in a user message: shown as a tool message.
  const toolOnly = parts.length > 0 && parts.every((p) => p.type === "tool_result");
  return { role: toolOnly ? "tool" : r, parts };
}

/** The Responses API's `input` items as messages (consecutive non-message items of one kind grouped). */
function responsesItems(items: unknown[]): UiMessage[] {
  const out: UiMessage[] = [];
  for (const item of items) {
    if (!isObject(item)) continue;
    const type = str(item.type);
    if (type === null || type === "message") {
      out.push(chatMessage(item));
      continue;
    }
    const parts = blockParts(item);
    if (parts.length === 0) continue;
    const r: Role = parts[0]!.type === "tool_result" ? "tool" : "assistant";
    const last = out[out.length - 1];
    if (last && last.role === r && r === "assistant") last.parts.push(...parts);
    else out.push({ role: r, parts });
  }
  return out;
}

/**
 * Every message of a recorded request (`prompt_json`, parsed), system prompts first, in order.
 * Unknown shapes give no messages.
 */
export function requestMessages(request: unknown): UiMessage[] {
  if (!isObject(request)) return [];
  const out: UiMessage[] = [];
  if (isObject(request.llm_relay_reduced)) {
    const reduced = request.llm_relay_reduced;
    return [
      {
        role: "user",
        parts: [{ type: "text", text: `[reduced record: ${asText(reduced.reason)}]\n${asText(reduced.body)}` }],
      },
    ];
  }
  // Anthropic `system`, Responses `instructions`, Gemini `systemInstruction`.
  if (request.system !== undefined && request.system !== null) {
    const parts = contentParts(request.system);
    if (parts.length > 0) out.push({ role: "system", parts });
  }
  if (typeof request.instructions === "string" && request.instructions !== "")
    out.push({ role: "system", parts: [{ type: "text", text: request.instructions }] });
  const si = request.systemInstruction ?? request.system_instruction;
  if (isObject(si)) out.push({ role: "system", parts: contentParts(si.parts) });
  if (Array.isArray(request.messages)) {
    for (const m of request.messages) if (isObject(m)) out.push(chatMessage(m));
  } else if (Array.isArray(request.contents)) {
    for (const c of request.contents) if (isObject(c)) out.push(chatMessage({ role: c.role, parts: c.parts }));
  } else if (typeof request.input === "string") {
    out.push({ role: "user", parts: [{ type: "text", text: request.input }] });
  } else if (Array.isArray(request.input)) {
    out.push(...responsesItems(request.input));
  } else if (request.prompt !== undefined) {
    const prompts = Array.isArray(request.prompt) ? request.prompt : [request.prompt];
    out.push({ role: "user", parts: prompts.map((p) => ({ type: "text" as const, text: asText(p) })) });
  }
  return out;
}

/**
 * The messages a turn added: the request's messages after its last assistant message, or all of them
 * for the first turn of a conversation (and for a request with no assistant message).
 */
export function turnInput(request: unknown, firstTurn: boolean): UiMessage[] {
  const messages = requestMessages(request);
  if (firstTurn) return messages;
  let last = -1;
  for (let i = messages.length - 1; i >= 0; i--)
    if (messages[i]!.role === "assistant") {
      last = i;
      break;
    }
  return messages.slice(last + 1);
}

/**
 * The answer of a turn: the assistant message of a chat completion (`choices[0].message`, reasoning
 * first), or — for a history row or a record without one — the recorded `response` text with its
 * `reasoning`; null when there is none (an error body and no text).
 */
export function turnOutput(response: unknown, responseText: string | null, reasoning: string | null): UiMessage | null {
  if (isObject(response) && Array.isArray(response.choices)) {
    const choice: unknown = (response.choices as unknown[])[0];
    const message = isObject(choice)
      ? isObject(choice.message)
        ? choice.message
        : isObject(choice.delta)
          ? choice.delta
          : null
      : null;
    if (message) {
      const out = chatMessage({ ...message, role: "assistant" });
      if (!out.parts.some((p) => p.type === "reasoning") && reasoning)
        out.parts.unshift({ type: "reasoning", text: reasoning });
      if (out.parts.length > 0) return out;
    }
  }
  const parts: UiPart[] = [];
  if (reasoning) parts.push({ type: "reasoning", text: reasoning });
  if (responseText) parts.push({ type: "text", text: responseText });
  return parts.length > 0 ? { role: "assistant", parts } : null;
}
