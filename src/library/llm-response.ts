/**
 * Builds {@link LLMResponse}s: from a completion (or a streamed answer
 * assembled with StreamAccumulator), or from any failure. The token counts
 * are those of the call's record when there is one (in-process: the same
 * numbers and `estimated` flag as logs.db, for complete, broken-off and
 * failed calls); else the upstream's `usage`, else counted locally with
 * gpt-tokenizer (and flagged estimated).
 */
import type { ChatCompletion } from "../protocol/chat-completion.js";
import type { ChatCompletionRequest } from "../protocol/chat-request.js";
import { RelayError } from "../protocol/errors.js";
import { completionOutput } from "../protocol/stream-accumulator.js";
import type { TokenUsage } from "../recording/types.js";
import { countPromptTokens, countTextTokens } from "../tokens/count.js";
import type { LLMResponse } from "./types.js";

/** Seconds between two `performance.now()` readings (at least 1 µs, so a time is always positive). */
export function secondsBetween(start: number, end: number): number {
  return Math.max(end - start, 0.001) / 1000;
}

/**
 * The answer of a call that produced `completion`.
 * @param recorded the token counts of the call's record (see `Transport.settle`), or null when it has none
 */
export function successResponse(
  body: ChatCompletionRequest,
  completion: ChatCompletion,
  startedAt: number,
  finishedAt: number,
  exchangeId?: string,
  recorded: TokenUsage | null = null,
): LLMResponse {
  const { text, finishReason } = completionOutput(completion);
  const tokens = recorded ??
    reportedUsage(completion) ?? {
      input: countPromptTokens(body.messages),
      output: countTextTokens(text),
      estimated: true,
    };
  return {
    content: text,
    ...tokenFields(tokens),
    responseTime: secondsBetween(startedAt, finishedAt),
    modelUsed: typeof completion.model === "string" && completion.model ? completion.model : body.model,
    success: true,
    finishReason,
    id: exchangeId ?? (typeof completion.id === "string" ? completion.id : ""),
  };
}

/**
 * What a failed call answers: the error text, the time until the failure, whatever text had
 * arrived, and the token counts of its record (`partial.recorded`; 0 and not estimated without one).
 */
export function failureResponse(
  error: unknown,
  startedAt: number,
  endedAt: number,
  model: string,
  partial?: {
    text: string;
    finishReason: string | null;
    exchangeId?: string | undefined;
    recorded?: TokenUsage | null;
  },
): LLMResponse {
  return {
    content: partial?.text ?? "",
    ...tokenFields(partial?.recorded ?? { input: 0, output: 0, estimated: false }),
    responseTime: secondsBetween(startedAt, endedAt),
    modelUsed: model,
    success: false,
    error: errorText(error),
    finishReason: partial?.finishReason ?? null,
    id: partial?.exchangeId ?? "",
  };
}

/** The upstream's `usage` of a completion, or null when it reported no prompt and completion counts. */
function reportedUsage(completion: ChatCompletion): TokenUsage | null {
  const usage = completion.usage;
  if (!usage || typeof usage.prompt_tokens !== "number" || typeof usage.completion_tokens !== "number") return null;
  return { input: usage.prompt_tokens, output: usage.completion_tokens, estimated: false };
}

function tokenFields(
  tokens: TokenUsage,
): Pick<LLMResponse, "tokensUsed" | "inputTokens" | "outputTokens" | "usageEstimated"> {
  return {
    tokensUsed: tokens.input + tokens.output,
    inputTokens: tokens.input,
    outputTokens: tokens.output,
    usageEstimated: tokens.estimated,
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
