/**
 * An answer of an upstream that spoke OpenAI's Responses API natively, read
 * as the chat completion or chunks it stands for (for the record). Follows
 * the Response object (https://platform.openai.com/docs/api-reference/responses/object)
 * and its streaming events
 * (https://platform.openai.com/docs/api-reference/responses-streaming):
 *
 * | Responses | chat |
 * | --- | --- |
 * | `message` items' `output_text` parts (and `refusal` parts) | `content` (`refusal`) |
 * | `function_call` items (`call_id`, `name`, `arguments`) | `tool_calls` (`id` = `call_id`) |
 * | `reasoning` items' `summary` texts, else their `reasoning_text` content | `reasoning_content` |
 * | `status: "incomplete"` with `max_output_tokens` / `content_filter` | `finish_reason` `length` / `content_filter`; else `tool_calls` when there are calls, `stop` |
 * | `usage.input_tokens`, `output_tokens`, `input_tokens_details.cached_tokens`, `output_tokens_details.reasoning_tokens` | `prompt_tokens`, `completion_tokens`, `prompt_tokens_details.cached_tokens`, `completion_tokens_details.reasoning_tokens` |
 *
 * A stream is read from its `response.completed` (or `response.incomplete`)
 * event, which carries the whole response; a stream cut before it is read
 * from its deltas (text, reasoning, function-call arguments), without usage.
 */
import type { AssistantMessage, ChatCompletion, ChatCompletionChunk, Usage } from "../chat-completion.js";
import { sseDataOf } from "../sse-text.js";

type JsonObject = Record<string, unknown>;

/**
 * The chat completion of a Responses API `response` body (JSON text).
 * @throws Error when the body is not JSON of `object: "response"`
 */
export function decodeResponsesBody(body: string): ChatCompletion {
  const response = parseJson(body);
  if (!isRecord(response) || response.object !== "response") throw new Error("the body is not an OpenAI response");
  return responseToCompletion(response);
}

/** The chat form of a Responses stream: the completion of its final response, or the chunks of its deltas. */
export type DecodedResponsesStream =
  { kind: "completion"; body: ChatCompletion } | { kind: "stream"; events: ChatCompletionChunk[] };

/**
 * Reads a Responses stream (blocks of SSE text, `event:` lines included).
 * @throws Error when an event's data is not JSON with a `type`
 */
export function decodeResponsesStream(blocks: readonly string[]): DecodedResponsesStream {
  const deltas = new DeltaChunks();
  for (const data of sseDataOf(blocks)) {
    if (data === "[DONE]") continue;
    const event = parseJson(data);
    if (!isRecord(event) || typeof event.type !== "string")
      throw new Error(`a stream event that is not a Responses event: ${data.slice(0, 200)}`);
    if ((event.type === "response.completed" || event.type === "response.incomplete") && isRecord(event.response))
      return { kind: "completion", body: responseToCompletion(event.response) };
    if (event.type === "response.failed" || event.type === "error") break;
    deltas.add(event);
  }
  return { kind: "stream", events: deltas.chunks };
}

/** The chat completion a Response object stands for (see the module's table). */
export function responseToCompletion(response: JsonObject): ChatCompletion {
  const texts: string[] = [];
  const refusals: string[] = [];
  const reasoning: string[] = [];
  const toolCalls: NonNullable<AssistantMessage["tool_calls"]> = [];
  for (const item of Array.isArray(response.output) ? response.output : []) {
    if (!isRecord(item)) continue;
    if (item.type === "message") {
      for (const part of Array.isArray(item.content) ? item.content : []) {
        if (!isRecord(part)) continue;
        if (part.type === "output_text" && typeof part.text === "string") texts.push(part.text);
        if (part.type === "refusal" && typeof part.refusal === "string") refusals.push(part.refusal);
      }
    } else if (item.type === "function_call") {
      toolCalls.push({
        id: str(item.call_id) ?? str(item.id) ?? `call_${toolCalls.length}`,
        type: "function",
        function: { name: str(item.name) ?? "", arguments: str(item.arguments) ?? "" },
      });
    } else if (item.type === "reasoning") {
      reasoning.push(reasoningText(item));
    }
  }
  const message: AssistantMessage = {
    role: "assistant",
    content: texts.length > 0 ? texts.join("") : toolCalls.length > 0 ? null : "",
    ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    ...(reasoning.some((text) => text !== "") ? { reasoning_content: reasoning.join("") } : {}),
    ...(refusals.length > 0 ? { refusal: refusals.join("") } : {}),
  };
  const usage = chatUsage(response.usage);
  return {
    id: str(response.id) ?? "resp",
    object: "chat.completion",
    created: typeof response.created_at === "number" ? response.created_at : 0,
    model: str(response.model) ?? "",
    choices: [{ index: 0, message, finish_reason: finishReason(response, toolCalls.length > 0) }],
    ...(usage ? { usage } : {}),
  };
}

/** A reasoning item's text: its summary texts, else its `reasoning_text` content. */
function reasoningText(item: JsonObject): string {
  const texts = (list: unknown, type: string) =>
    (Array.isArray(list) ? list : [])
      .filter((part): part is JsonObject => isRecord(part) && part.type === type && typeof part.text === "string")
      .map((part) => part.text as string);
  const summary = texts(item.summary, "summary_text");
  return (summary.length > 0 ? summary : texts(item.content, "reasoning_text")).join("\n\n");
}

function finishReason(response: JsonObject, hasCalls: boolean): string {
  if (response.status === "incomplete") {
    const reason = isRecord(response.incomplete_details) ? response.incomplete_details.reason : undefined;
    if (reason === "max_output_tokens") return "length";
    if (reason === "content_filter") return "content_filter";
  }
  return hasCalls ? "tool_calls" : "stop";
}

/** Responses `usage` → chat `usage`, or null when it has no counts. */
export function chatUsage(usage: unknown): Usage | null {
  if (!isRecord(usage) || typeof usage.input_tokens !== "number") return null;
  const input = usage.input_tokens;
  const output = typeof usage.output_tokens === "number" ? usage.output_tokens : 0;
  const cached = isRecord(usage.input_tokens_details) ? usage.input_tokens_details.cached_tokens : undefined;
  const reasoning = isRecord(usage.output_tokens_details) ? usage.output_tokens_details.reasoning_tokens : undefined;
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: typeof usage.total_tokens === "number" ? usage.total_tokens : input + output,
    ...(typeof cached === "number" ? { prompt_tokens_details: { cached_tokens: cached } } : {}),
    ...(typeof reasoning === "number" ? { completion_tokens_details: { reasoning_tokens: reasoning } } : {}),
  };
}

/** Chunks rebuilt from a stream's delta events (for a stream cut before its final response). */
class DeltaChunks {
  readonly chunks: ChatCompletionChunk[] = [];
  private id = "resp";
  private model = "";
  private created = 0;
  /** Output index of a function_call item → its tool call index. */
  private readonly calls = new Map<number, number>();

  add(event: JsonObject): void {
    switch (event.type) {
      case "response.created":
      case "response.in_progress": {
        const response = isRecord(event.response) ? event.response : {};
        this.id = str(response.id) ?? this.id;
        this.model = str(response.model) ?? this.model;
        if (typeof response.created_at === "number") this.created = response.created_at;
        return;
      }
      case "response.output_item.added": {
        const item = isRecord(event.item) ? event.item : {};
        if (item.type !== "function_call") return;
        const index = this.calls.size;
        this.calls.set(typeof event.output_index === "number" ? event.output_index : -1, index);
        this.push({
          tool_calls: [
            {
              index,
              id: str(item.call_id) ?? str(item.id) ?? `call_${index}`,
              type: "function",
              function: { name: str(item.name) ?? "", arguments: str(item.arguments) ?? "" },
            },
          ],
        });
        return;
      }
      case "response.output_text.delta":
        if (typeof event.delta === "string") this.push({ content: event.delta });
        return;
      case "response.reasoning_summary_text.delta":
      case "response.reasoning_text.delta":
        if (typeof event.delta === "string") this.push({ reasoning_content: event.delta });
        return;
      case "response.function_call_arguments.delta": {
        const index = this.calls.get(typeof event.output_index === "number" ? event.output_index : -1);
        if (index !== undefined && typeof event.delta === "string")
          this.push({ tool_calls: [{ index, function: { arguments: event.delta } }] });
        return;
      }
      default:
        return;
    }
  }

  private push(delta: ChatCompletionChunk["choices"][number]["delta"]): void {
    this.chunks.push({
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: null }],
    });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
