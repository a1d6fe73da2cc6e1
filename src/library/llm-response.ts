/**
 * Builds {@link LLMResponse}s: from a completion (or a streamed answer
 * assembled with StreamAccumulator), or from any failure. Token counts
 * missing upstream are counted locally with gpt-tokenizer.
 */
import type { ChatCompletion } from "../protocol/chat-completion.js";
import type { ChatCompletionRequest } from "../protocol/chat-request.js";
import { RelayError } from "../protocol/errors.js";
import { completionOutput } from "../protocol/stream-accumulator.js";
import { countPromptTokens, countTextTokens } from "../tokens/count.js";
import type { LLMResponse } from "./types.js";

/** Seconds between two `performance.now()` readings (at least 1 µs, so a time is always positive). */
export function secondsBetween(start: number, end: number): number {
  return Math.max(end - start, 0.001) / 1000;
}

/** The answer of a call that produced `completion`. */
export function successResponse(body: ChatCompletionRequest, completion: ChatCompletion, startedAt: number, finishedAt: number, exchangeId?: string): LLMResponse {
  const { text, finishReason } = completionOutput(completion);
  const usage = completion.usage;
  const reported = usage && typeof usage.prompt_tokens === "number" && typeof usage.completion_tokens === "number";
  const inputTokens = reported ? usage.prompt_tokens : countPromptTokens(body.messages);
  const outputTokens = reported ? usage.completion_tokens : countTextTokens(text);
  return {
    content: text,
    tokensUsed: inputTokens + outputTokens,
    inputTokens,
    outputTokens,
    responseTime: secondsBetween(startedAt, finishedAt),
    modelUsed: typeof completion.model === "string" && completion.model ? completion.model : body.model,
    success: true,
    finishReason,
    id: exchangeId ?? (typeof completion.id === "string" ? completion.id : ""),
  };
}

/** What a failed call answers: the error text, the time until the failure, and whatever text had arrived. */
export function failureResponse(
  error: unknown,
  startedAt: number,
  endedAt: number,
  model: string,
  partial?: { text: string; finishReason: string | null; exchangeId?: string | undefined },
): LLMResponse {
  return {
    content: partial?.text ?? "",
    tokensUsed: 0,
    inputTokens: 0,
    outputTokens: 0,
    responseTime: secondsBetween(startedAt, endedAt),
    modelUsed: model,
    success: false,
    error: errorText(error),
    finishReason: partial?.finishReason ?? null,
    id: partial?.exchangeId ?? "",
  };
}

/** A readable one-line description of a failure. */
export function errorText(error: unknown): string {
  if (error instanceof RelayError) {
    if (error.code === "invalid_argument") return `Invalid argument: ${error.message}`;
    if (error.code === "timeout" || error.code === "aborted") return error.message;
    return `HTTP ${error.status}${error.code ? ` ${error.code}` : ""}: ${error.message}`;
  }
  if (error instanceof Error) return error.name === "Error" ? error.message : `${error.name}: ${error.message}`;
  return String(error);
}
