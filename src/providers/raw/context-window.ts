/**
 * The context-window check made before a prompt is sent to a backend: a
 * prompt plus its `max_tokens` over the window is refused with 400
 * `context_length_exceeded` (OpenAI's code for it), and nothing is sent.
 */
import { errors } from "../../protocol/error-codes.js";
import { RelayError } from "../../protocol/errors.js";

/** What the check needs, in tokens. */
export interface ContextWindowCheck {
  /** Tokens of the rendered prompt (or the message list). */
  promptTokens: number;
  /** Whether `promptTokens` is an estimate (no tokenizer endpoint). */
  estimated: boolean;
  /** Tokens reserved for the answer (`max_tokens`), 0 when the client set none. */
  maxTokens: number;
  /** The model's context window, or null when unknown (then nothing is checked). */
  contextWindow: number | null;
}

/**
 * The error for a prompt that does not fit, stating both numbers.
 * @param promptTokens tokens of the prompt
 * @param maxTokens tokens requested for the answer
 * @param contextWindow the model's context window, in tokens
 * @param estimated whether `promptTokens` is the proxy's estimate (else the backend's tokenizer counted it: the error carries it as `promptTokens`)
 */
export function contextLengthExceeded(
  promptTokens: number,
  maxTokens: number,
  contextWindow: number,
  estimated = false,
): RelayError {
  const counted = estimated ? " (estimated)" : "";
  return errors.contextLengthExceeded(
    `This model's maximum context length is ${contextWindow} tokens. However, you requested ${promptTokens + maxTokens} tokens ` +
      `(${promptTokens}${counted} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`,
    // A count by the backend's tokenizer is what the record keeps as input_tokens; an estimate is left to the recorder.
    { promptTokens: estimated ? null : promptTokens },
  );
}

/**
 * Refuses a prompt that does not fit its window.
 * @throws RelayError 400 `context_length_exceeded` when `promptTokens + maxTokens > contextWindow`
 */
export function assertFitsContextWindow(check: ContextWindowCheck): void {
  if (check.contextWindow === null) return;
  if (check.promptTokens + check.maxTokens > check.contextWindow) {
    throw contextLengthExceeded(check.promptTokens, check.maxTokens, check.contextWindow, check.estimated);
  }
}

/** The `max_tokens` of a request (`max_completion_tokens` wins), or 0 when unset or invalid. */
export function requestedMaxTokens(body: { max_tokens?: unknown; max_completion_tokens?: unknown }): number {
  const value = body.max_completion_tokens ?? body.max_tokens;
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : 0;
}
