/**
 * An OpenAI Responses request translated to Chat Completions, for a
 * deployment that does not speak Responses (and for the record's llm rows).
 * Responses: https://platform.openai.com/docs/api-reference/responses/create;
 * Chat Completions: https://platform.openai.com/docs/api-reference/chat/create.
 *
 * Deterministic, so the history a client re-sends gives the chat messages
 * the record of the earlier turn stored (one conversation in the logs.db):
 * - `instructions` → a `system` message first;
 * - `message` items: `system` and `developer` → `system` (chat upstreams
 *   such as llama-server and older vLLM do not know `developer`), `user` →
 *   `user`, `assistant` → `assistant` (its text parts joined into one
 *   string, as the recorded reply is); `input_text`/`output_text` parts →
 *   `text` parts (one part: a plain string), `input_image` with a URL →
 *   `image_url`; files and images by file id cannot be translated (400);
 * - `function_call` items → `tool_calls` of an assistant message: merged
 *   into the assistant message (or call) just before it, so one answer's
 *   text and calls make one message;
 * - `function_call_output` → a `role: "tool"` message;
 * - `reasoning` items are dropped: chat requests carry no reasoning back
 *   (and the record threads an answer re-sent without its reasoning);
 * - `function` tools → chat function tools; a `namespace` tool's functions
 *   → chat functions named `<namespace>__<name>` (mapped back by
 *   {@link FunctionNames}); `web_search` tools are left out (a chat
 *   upstream has no hosted search: the model answers without it), unless
 *   `tool_choice` forces one; every other tool type (`file_search`,
 *   `code_interpreter`, `mcp`, `computer_use_preview`, `custom`, …) is a 400
 *   naming it;
 * - `max_output_tokens` → `max_tokens`, `reasoning.effort` →
 *   `reasoning_effort`, `text.format` `json_schema`/`json_object` →
 *   `response_format`; `temperature`, `top_p`, `user`, `parallel_tool_calls`
 *   as they are. The Responses-only fields (`store`, `include`, `metadata`,
 *   `previous_response_id`, unknown ones) are not sent to a chat upstream.
 *
 * What cannot be translated is reported through an {@link Untranslatable}
 * callback: by default it throws (a 400 naming it); the adapter instead
 * keeps the first one and translates the rest, so that a deployment that
 * speaks Responses natively still gets the request, and only an attempt
 * that must translate fails with that 400.
 */
import type { ChatCompletionRequest, ChatMessage } from "../chat-request.js";
import { invalidRequest, RelayError } from "../errors.js";
import {
  parseInputItem,
  type InputItem,
  type ResponsesContentPart,
  type ResponsesRequest,
  type ResponsesTool,
} from "./responses-request.js";

/** Told of each part of a request that cannot be translated (a 400 naming it); the part is then left out. */
export type Untranslatable = (error: RelayError) => void;

/** The default {@link Untranslatable}: refuse the request. */
const refuse: Untranslatable = (error) => {
  throw error;
};

/** A chat tool call of an assistant message. */
type ChatToolCall = NonNullable<ChatMessage["tool_calls"]>[number];

/** The hosted tool types left out of a translated request (see the module comment). */
const DROPPED_TOOL_TYPES: ReadonlySet<string> = new Set([
  "web_search",
  "web_search_preview",
  "web_search_2025_08_26",
  "web_search_preview_2025_03_11",
]);

/** The chat function name of a function inside a `namespace` tool. */
export function namespacedName(namespace: string, name: string): string {
  return `${namespace}__${name}`;
}

/** A function as a Responses client names it: its name, and its namespace when it belongs to one. */
export interface ResponsesFunctionName {
  name: string;
  namespace?: string;
}

/** How the chat function names of a request map back to the client's (namespaced functions). */
export class FunctionNames {
  private readonly byChatName = new Map<string, ResponsesFunctionName>();

  /** The names of `tools` (a request's `tools`, as received). */
  constructor(tools: readonly unknown[] | null | undefined) {
    for (const tool of tools ?? []) {
      if (!isRecord(tool) || tool.type !== "namespace" || typeof tool.name !== "string") continue;
      for (const inner of Array.isArray(tool.tools) ? (tool.tools as unknown[]) : []) {
        if (isRecord(inner) && typeof inner.name === "string") {
          this.byChatName.set(namespacedName(tool.name, inner.name), { name: inner.name, namespace: tool.name });
        }
      }
    }
  }

  /** The client's name for a chat function name. */
  fromChat(chatName: string): ResponsesFunctionName {
    return this.byChatName.get(chatName) ?? { name: chatName };
  }
}

/**
 * The chat request for `request`.
 * @param history the messages of the conversation before it (`previous_response_id`), placed after `instructions`
 * @param untranslatable told of what cannot be translated (an input item or part, a tool type, a `tool_choice`, a `text.format`), which is then left out; by default it throws
 * @throws RelayError 400 naming what cannot be translated (with the default `untranslatable`), or `input` when there is nothing to send
 */
export function toChatRequest(
  request: ResponsesRequest,
  history: readonly ChatMessage[] = [],
  untranslatable: Untranslatable = refuse,
): ChatCompletionRequest {
  const messages: ChatMessage[] = [];
  if (typeof request.instructions === "string" && request.instructions !== "") {
    messages.push({ role: "system", content: request.instructions });
  }
  messages.push(...history, ...inputToMessages(request.input, untranslatable));
  if (messages.length === 0)
    throw invalidRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter");
  const chat: ChatCompletionRequest = { model: request.model, messages, stream: request.stream ?? false };
  const tools = toolsToChat(request.tools ?? [], untranslatable);
  const toolChoice = optional(() => toolChoiceToChat(request.tool_choice, request.tools ?? []), untranslatable);
  if (tools.length === 0 && toolChoice === "required" && (request.tools ?? []).length > 0) {
    untranslatable(
      invalidRequest(
        "tool_choice 'required' cannot be translated to Chat Completions: none of the tools is a function.",
        "tool_choice",
        "invalid_value",
      ),
    );
  }
  if (tools.length > 0) {
    chat.tools = tools;
    if (toolChoice !== undefined && toolChoice !== null) chat.tool_choice = toolChoice;
    if (typeof request.parallel_tool_calls === "boolean") chat.parallel_tool_calls = request.parallel_tool_calls;
  }
  if (typeof request.max_output_tokens === "number") chat.max_tokens = request.max_output_tokens;
  if (typeof request.temperature === "number") chat.temperature = request.temperature;
  if (typeof request.top_p === "number") chat.top_p = request.top_p;
  if (typeof request.user === "string") chat.user = request.user;
  if (typeof request.reasoning?.effort === "string") chat.reasoning_effort = request.reasoning.effort;
  const format = optional(() => responseFormat(request), untranslatable);
  if (format) chat.response_format = format;
  return chat;
}

/**
 * The chat messages of a request's `input` (without `instructions`).
 * @param untranslatable told of each item or part that is invalid or cannot be translated, which is left out; by default it throws
 * @throws RelayError 400 naming the item that is invalid or cannot be translated (with the default `untranslatable`)
 */
export function inputToMessages(
  input: ResponsesRequest["input"],
  untranslatable: Untranslatable = refuse,
): ChatMessage[] {
  if (input === undefined || input === null) return [];
  if (typeof input === "string") return [{ role: "user", content: input }];
  const out: ChatMessage[] = [];
  /** The assistant message a following `function_call` joins, while the items still belong to one answer. */
  let answer: ChatMessage | null = null;
  input.forEach((raw, index) => {
    const item: InputItem | null = optional(() => parseInputItem(raw, index), untranslatable);
    if (item === null) return;
    switch (item.kind) {
      case "reasoning":
        return;
      case "function_call": {
        const call: ChatToolCall = {
          id: item.call_id,
          type: "function",
          function: {
            name: item.namespace ? namespacedName(item.namespace, item.name) : item.name,
            arguments: item.arguments,
          },
        };
        if (answer) {
          answer.tool_calls = [...(answer.tool_calls ?? []), call];
        } else {
          answer = { role: "assistant", content: null, tool_calls: [call] };
          out.push(answer);
        }
        return;
      }
      case "function_call_output":
        answer = null;
        out.push({
          role: "tool",
          tool_call_id: item.call_id,
          content:
            typeof item.output === "string"
              ? item.output
              : textOnly(item.output, `input[${index}].output`, untranslatable),
        });
        return;
      case "message": {
        const at = `input[${index}].content`;
        if (item.role === "assistant") {
          answer = { role: "assistant", content: assistantText(item.content, at, untranslatable) };
          out.push(answer);
          return;
        }
        answer = null;
        out.push({
          role: item.role === "user" ? "user" : "system",
          content: messageContent(item.content, at, untranslatable),
        });
        return;
      }
    }
  });
  return out;
}

/** The content of a user or system message: a string, one text part as a string, else chat parts. */
function messageContent(
  content: string | ResponsesContentPart[],
  at: string,
  untranslatable: Untranslatable,
): ChatMessage["content"] {
  if (typeof content === "string") return content;
  const parts = content.flatMap((part, i) => optional(() => chatPart(part, `${at}[${i}]`), untranslatable) ?? []);
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only && only.type === "text") return only.text ?? "";
  return parts;
}

function chatPart(part: ResponsesContentPart, at: string): { type: string; text?: string; [key: string]: unknown } {
  switch (part.type) {
    case "input_text":
    case "output_text":
    case "text":
      return { type: "text", text: part.text ?? "" };
    case "refusal":
      return { type: "text", text: part.refusal ?? "" };
    case "input_image": {
      if (typeof part.image_url !== "string" || part.image_url === "") {
        throw invalidRequest(
          `An input_image by file_id (${at}) cannot be translated to Chat Completions: send it with an image_url (https or data URL).`,
          at,
          "invalid_value",
        );
      }
      const image: { url: string; detail?: string } = { url: part.image_url };
      if (typeof part.detail === "string") image.detail = part.detail;
      return { type: "image_url", image_url: image };
    }
    default:
      throw invalidRequest(
        `Content part type ${JSON.stringify(part.type)} (${at}) cannot be translated to Chat Completions.`,
        `${at}.type`,
        "invalid_value",
      );
  }
}

/** An assistant message's text, its parts joined (the recorded reply is one string). */
function assistantText(content: string | ResponsesContentPart[], at: string, untranslatable: Untranslatable): string {
  if (typeof content === "string") return content;
  return content
    .map((part, i) => {
      const chat = optional(() => chatPart(part, `${at}[${i}]`), untranslatable);
      if (chat && chat.type !== "text") {
        untranslatable(
          invalidRequest(`An assistant message holds only text (${at}[${i}]).`, `${at}[${i}].type`, "invalid_value"),
        );
        return "";
      }
      return chat?.text ?? "";
    })
    .join("");
}

/** A tool output given as parts: its text parts (a tool message carries only text). */
function textOnly(
  parts: readonly ResponsesContentPart[],
  at: string,
  untranslatable: Untranslatable,
): ChatMessage["content"] {
  return parts.flatMap((part, i) => {
    const chat = optional(() => chatPart(part, `${at}[${i}]`), untranslatable);
    if (chat && chat.type !== "text") {
      untranslatable(
        invalidRequest(
          `A function_call_output with an image (${at}[${i}]) cannot be translated to Chat Completions.`,
          `${at}[${i}].type`,
          "invalid_value",
        ),
      );
      return [];
    }
    return chat ? [{ type: "text", text: chat.text ?? "" }] : [];
  });
}

/** The chat function tools of `tools` (see the module comment for the other types). */
function toolsToChat(tools: readonly ResponsesTool[], untranslatable: Untranslatable): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const add = (make: () => Record<string, unknown>) => {
    const tool = optional(make, untranslatable);
    if (tool) out.push(tool);
  };
  tools.forEach((tool, index) => {
    if (tool.type === "function") {
      add(() => chatFunction(tool, tool.name, `tools[${index}]`));
    } else if (tool.type === "namespace") {
      const namespace = optional(() => requiredName(tool.name, `tools[${index}].name`), untranslatable);
      if (namespace === null) return;
      (tool.tools ?? []).forEach((inner, j) => {
        const at = `tools[${index}].tools[${j}]`;
        add(() => {
          if (inner.type !== "function") throw untranslatableTool(inner.type, at);
          const name = requiredName(typeof inner.name === "string" ? inner.name : undefined, `${at}.name`);
          return chatFunction(inner, namespacedName(namespace, name), at);
        });
      });
    } else if (!DROPPED_TOOL_TYPES.has(tool.type)) {
      untranslatable(untranslatableTool(tool.type, `tools[${index}]`));
    }
  });
  return out;
}

function chatFunction(tool: Record<string, unknown>, name: string | undefined, at: string): Record<string, unknown> {
  const fn: Record<string, unknown> = { name: requiredName(name, `${at}.name`) };
  if (typeof tool.description === "string") fn.description = tool.description;
  if (isRecord(tool.parameters)) fn.parameters = tool.parameters;
  if (typeof tool.strict === "boolean") fn.strict = tool.strict;
  return { type: "function", function: fn };
}

function requiredName(name: string | undefined, at: string): string {
  if (typeof name !== "string" || name === "") {
    throw invalidRequest(`Missing required parameter: '${at}'.`, at, "missing_required_parameter");
  }
  return name;
}

function untranslatableTool(type: string, at: string) {
  return invalidRequest(
    `Tool type ${JSON.stringify(type)} (${at}) cannot be translated to Chat Completions: the deployment does not speak the Responses API, and only 'function' tools (also inside a 'namespace') can be translated.`,
    `${at}.type`,
    "invalid_value",
  );
}

/** The chat `tool_choice` of a request's, or undefined to leave it out. */
function toolChoiceToChat(
  choice: ResponsesRequest["tool_choice"],
  tools: readonly ResponsesTool[],
): string | Record<string, unknown> | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (typeof choice === "string") {
    if (choice === "auto" || choice === "none" || choice === "required") return choice;
    throw invalidRequest(`Invalid value for 'tool_choice': ${JSON.stringify(choice)}.`, "tool_choice", "invalid_value");
  }
  if (choice.type === "function") {
    const name = requiredName(choice.name, "tool_choice.name");
    const namespace = typeof choice.namespace === "string" ? choice.namespace : null;
    return { type: "function", function: { name: namespace ? namespacedName(namespace, name) : name } };
  }
  const forced = DROPPED_TOOL_TYPES.has(choice.type) || tools.some((tool) => tool.type === choice.type);
  throw invalidRequest(
    `tool_choice ${JSON.stringify(choice.type)} cannot be translated to Chat Completions${forced ? ": it forces a hosted tool a chat upstream does not have" : ""}.`,
    "tool_choice.type",
    "invalid_value",
  );
}

/** The chat `response_format` of `text.format`, or null for plain text. */
function responseFormat(request: ResponsesRequest): Record<string, unknown> | null {
  const format = request.text?.format;
  if (!format || format.type === "text") return null;
  if (format.type === "json_object") return { type: "json_object" };
  if (format.type === "json_schema") {
    const schema: Record<string, unknown> = { name: requiredName(format.name, "text.format.name") };
    if (format.schema) schema.schema = format.schema;
    if (typeof format.strict === "boolean") schema.strict = format.strict;
    if (typeof format.description === "string") schema.description = format.description;
    return { type: "json_schema", json_schema: schema };
  }
  throw invalidRequest(
    `text.format ${JSON.stringify(format.type)} cannot be translated to Chat Completions.`,
    "text.format.type",
    "invalid_value",
  );
}

/** `make()`, or null after telling `untranslatable` of the RelayError it threw. */
function optional<T>(make: () => T, untranslatable: Untranslatable): T | null {
  try {
    return make();
  } catch (error) {
    if (!(error instanceof RelayError)) throw error;
    untranslatable(error);
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
