/**
 * A chat completion (https://platform.openai.com/docs/api-reference/chat/object)
 * → the answer objects of Ollama's `POST /api/chat` and `POST /api/generate`
 * (https://github.com/ollama/ollama/blob/main/docs/api.md): `model` (as the
 * client named it), `created_at` (RFC 3339), the output, `done`, and on the
 * last object `done_reason` with the counts and durations (answer-metrics.ts).
 *
 * Chat: `message` `{role: "assistant", content, thinking?, tool_calls?}`, each
 * tool call `{id, function: {index, name, arguments}}` with `arguments` an object
 * (the chat call's JSON text parsed; {} when it is not a JSON object).
 * Generate: `response`, and `thinking` beside it. The answer's reasoning
 * (`reasoning_content`/`reasoning`) is the `thinking`, unless the request said
 * `think: false`. The choice's `logprobs` become Ollama's `logprobs` (logprobs.ts).
 */
import { reasoningText, type ChatCompletion } from "../chat-completion.js";
import type { InboundAnswerInfo } from "../inbound.js";
import { toolInput } from "../anthropic/from-chat.js";
import { doneReasonOf, ollamaMetrics, type OllamaMetrics } from "./answer-metrics.js";
import { ollamaLogprobs, type OllamaLogprob } from "./logprobs.js";

/** Which answer shape: `/api/chat`'s `message` or `/api/generate`'s `response`. */
export type OllamaEndpoint = "chat" | "generate";

/** A tool call as Ollama answers it. */
export interface OllamaAnswerToolCall {
  id: string;
  function: { index: number; name: string; arguments: Record<string, unknown> };
}

/** What one answer object carries: text, reasoning, tool calls, and the text's log probabilities when asked for. */
export interface OllamaOutput {
  content: string;
  thinking: string | null;
  toolCalls: OllamaAnswerToolCall[];
  logprobs?: OllamaLogprob[];
}

/** The `done_reason` and metrics of a last object. */
export type OllamaDone = { done_reason: string } & OllamaMetrics;

/** The `{model, created_at}` every object starts with. */
export function answerHead(
  info: Pick<InboundAnswerInfo, "model">,
  at: number = Date.now(),
): { model: string; created_at: string } {
  return { model: info.model, created_at: new Date(at).toISOString() };
}

/** Whether the request asked for no thinking (`think: false`): the answer then shows none. */
export function thinkingOff(info: InboundAnswerInfo): boolean {
  return info.request.think === false;
}

/**
 * One answer object of `endpoint`: `done: false` with `output`, or the last (`done: true`) with `done`.
 * The output's empty parts are left out (`content` is always there for chat, `response` for generate).
 */
export function answerObject(
  endpoint: OllamaEndpoint,
  info: InboundAnswerInfo,
  output: OllamaOutput,
  done: OllamaDone | null,
): Record<string, unknown> {
  const head = answerHead(info);
  const thinking = output.thinking !== null && output.thinking !== "" ? { thinking: output.thinking } : {};
  const tail = done ? { done: true, ...done } : { done: false };
  const logprobs = output.logprobs && output.logprobs.length > 0 ? { logprobs: output.logprobs } : {};
  if (endpoint === "generate") return { ...head, response: output.content, ...thinking, ...tail, ...logprobs };
  const message: Record<string, unknown> = { role: "assistant", content: output.content, ...thinking };
  if (output.toolCalls.length > 0) message.tool_calls = output.toolCalls;
  return { ...head, message, ...tail, ...logprobs };
}

/** The non-streamed answer of `endpoint` for a chat completion (its first choice), as JSON text. */
export function completionToOllama(
  endpoint: OllamaEndpoint,
  completion: ChatCompletion,
  info: InboundAnswerInfo,
): string {
  const choice = completion.choices[0];
  const message = choice?.message;
  const toolCalls = (message?.tool_calls ?? []).map((call, i) => ollamaToolCall(call.id, i, call.function));
  const output: OllamaOutput = {
    content: typeof message?.content === "string" ? message.content : "",
    thinking: thinkingOff(info) ? null : reasoningText(message),
    toolCalls,
    logprobs: ollamaLogprobs(choice?.logprobs),
  };
  const metrics = ollamaMetrics(completion.usage, info.promptTokensEstimate, {
    startedAt: info.startedAt,
    firstOutputAt: null,
    endedAt: Date.now(),
  });
  const done = { done_reason: doneReasonOf(choice?.finish_reason), ...metrics };
  return JSON.stringify(answerObject(endpoint, info, output, done));
}

/** One tool call in Ollama's shape: `arguments` parsed to an object. */
export function ollamaToolCall(
  id: string | undefined,
  index: number,
  fn: { name?: string; arguments?: string },
): OllamaAnswerToolCall {
  return {
    id: id && id !== "" ? id : `call_${index}`,
    function: { index, name: fn.name ?? "", arguments: toolInput(fn.arguments) },
  };
}
