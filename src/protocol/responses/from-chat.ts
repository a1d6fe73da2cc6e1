/**
 * A chat completion as an OpenAI Responses `response` object
 * (https://platform.openai.com/docs/api-reference/responses/object), for a
 * non-streamed answer translated from a chat upstream and for
 * `GET /v1/responses/{id}` (rebuilt from the recorded completion). The
 * item and usage shapes are shared with the stream encoder.
 *
 * - `id` = `resp_<exchange id>`; the items' ids derive from it (`rs_…`,
 *   `msg_…`, `fc_…_<n>`), so a response rebuilt from the record is the one
 *   the client got.
 * - `output`: a `reasoning` item (the reasoning text as its summary) when
 *   the upstream sent reasoning, a `message` with one `output_text` when it
 *   sent text, then one `function_call` per tool call.
 * - `status`: `completed`; `incomplete` with `incomplete_details.reason`
 *   `max_output_tokens` (finish `length`) or `content_filter`.
 * - `usage`: `input_tokens`, `output_tokens`, `total_tokens`,
 *   `input_tokens_details.cached_tokens`, `output_tokens_details.reasoning_tokens`
 *   from the chat usage (`prompt_tokens_details`, `completion_tokens_details`).
 */
import { reasoningText, unixSeconds, type ChatCompletion, type Usage } from "../chat-completion.js";
import type { InboundAnswerInfo } from "../inbound.js";
import { FunctionNames } from "./to-chat.js";

/** The `usage` of a response. */
export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** An output item of a response (`reasoning`, `message`, `function_call`). */
export type OutputItem = Record<string, unknown> & { id: string; type: string };

/** The status of a response and why it is incomplete. */
export interface ResponseEnd {
  status: "completed" | "incomplete" | "failed" | "in_progress" | "cancelled";
  incomplete_details: { reason: string } | null;
  error: { code: string; message: string } | null;
}

/** The response id of an exchange. */
export function responseId(exchangeId: string): string {
  return `resp_${exchangeId}`;
}

/** The ids of a response's output items, derived from the exchange id. */
export const itemIds = {
  reasoning: (exchangeId: string): string => `rs_${exchangeId}`,
  message: (exchangeId: string): string => `msg_${exchangeId}`,
  functionCall: (exchangeId: string, index: number): string => `fc_${exchangeId}_${index}`,
};

/** A response's usage from a chat usage. */
export function responsesUsage(usage: Usage): ResponsesUsage {
  const input = count(usage.prompt_tokens);
  const output = count(usage.completion_tokens);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: count(nested(usage.prompt_tokens_details, "cached_tokens")) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: count(nested(usage.completion_tokens_details, "reasoning_tokens")) },
    total_tokens: typeof usage.total_tokens === "number" ? count(usage.total_tokens) : input + output,
  };
}

/** The end of a response whose chat answer finished with `finishReason`. */
export function endOf(finishReason: string | null | undefined): ResponseEnd {
  if (finishReason === "length") {
    return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, error: null };
  }
  if (finishReason === "content_filter") {
    return { status: "incomplete", incomplete_details: { reason: "content_filter" }, error: null };
  }
  return { status: "completed", incomplete_details: null, error: null };
}

/** A `reasoning` output item with `text` as its summary. */
export function reasoningItem(id: string, text: string, status: string): OutputItem {
  return { id, type: "reasoning", status, summary: [{ type: "summary_text", text }] };
}

/** A `message` output item holding `text` (no content part while none has begun). */
export function messageItem(id: string, text: string | null, status: string): OutputItem {
  return {
    id,
    type: "message",
    status,
    role: "assistant",
    content: text === null ? [] : [outputText(text)],
  };
}

/** An `output_text` content part. */
export function outputText(text: string): Record<string, unknown> {
  return { type: "output_text", text, annotations: [], logprobs: [] };
}

/** A `function_call` output item. */
export function functionCallItem(
  id: string,
  callId: string,
  chatName: string,
  args: string,
  status: string,
  names: FunctionNames,
): OutputItem {
  const { name, namespace } = names.fromChat(chatName);
  return {
    id,
    type: "function_call",
    status,
    call_id: callId,
    name,
    ...(namespace === undefined ? {} : { namespace }),
    arguments: args,
  };
}

/**
 * The response object around `output`, echoing the request's settings as
 * OpenAI's does (`instructions`, `tools`, `tool_choice`, `reasoning`, …).
 */
export function responseObject(
  info: Pick<InboundAnswerInfo, "exchangeId" | "model" | "startedAt" | "request">,
  output: readonly OutputItem[],
  end: ResponseEnd,
  usage: ResponsesUsage | null,
): Record<string, unknown> {
  const request = info.request;
  const reasoning = isRecord(request.reasoning) ? request.reasoning : {};
  return {
    id: responseId(info.exchangeId),
    object: "response",
    created_at: unixSeconds(info.startedAt),
    status: end.status,
    error: end.error,
    incomplete_details: end.incomplete_details,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: info.model,
    output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    reasoning: { effort: reasoning.effort ?? null, summary: reasoning.summary ?? null },
    store: request.store ?? true,
    temperature: request.temperature ?? null,
    text: request.text ?? { format: { type: "text" } },
    tool_choice: request.tool_choice ?? "auto",
    tools: request.tools ?? [],
    top_p: request.top_p ?? null,
    truncation: request.truncation ?? "disabled",
    usage,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

/** The output items of a chat completion's first choice, in Responses' order (reasoning, message, calls). */
export function outputOf(completion: ChatCompletion, exchangeId: string, names: FunctionNames): OutputItem[] {
  const choice = completion.choices[0];
  if (!choice) return [];
  const message = choice.message;
  const status = choice.finish_reason === "length" ? "incomplete" : "completed";
  const output: OutputItem[] = [];
  const reasoning = reasoningText(message);
  if (reasoning !== null) output.push(reasoningItem(itemIds.reasoning(exchangeId), reasoning, "completed"));
  if (typeof message.content === "string" && message.content !== "") {
    output.push(messageItem(itemIds.message(exchangeId), message.content, status));
  }
  (message.tool_calls ?? []).forEach((call, index) => {
    output.push(
      functionCallItem(
        itemIds.functionCall(exchangeId, index),
        call.id,
        call.function.name,
        call.function.arguments,
        "completed",
        names,
      ),
    );
  });
  return output;
}

/** The response object of a chat completion. */
export function responseFromCompletion(
  completion: ChatCompletion,
  info: Pick<InboundAnswerInfo, "exchangeId" | "model" | "startedAt" | "request">,
): Record<string, unknown> {
  const names = new FunctionNames(toolsOf(info.request));
  return responseObject(
    info,
    outputOf(completion, info.exchangeId, names),
    endOf(completion.choices[0]?.finish_reason),
    completion.usage ? responsesUsage(completion.usage) : null,
  );
}

/** A request's `tools`, when it has a list of them. */
export function toolsOf(request: Record<string, unknown>): unknown[] | null {
  return Array.isArray(request.tools) ? (request.tools as unknown[]) : null;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.floor(value) : 0;
}

function nested(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
