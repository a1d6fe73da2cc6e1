/**
 * One replay: the case's messages, as originally sent, streamed to a
 * candidate model through the library client (in-process: the proxy's own
 * router, providers and recorder), timing the first text (TTFT) and the
 * end.
 */
import { performance } from "node:perf_hooks";
import type { CompletionOptions, LLMClient } from "../library/types.js";
import { DEFAULT_REPLAY_MAX_TOKENS, type BenchCase, type RunSettings } from "./types.js";

/** What one replay produced. */
export interface CallOutcome {
  /** The answer's text (partial when the stream broke off). */
  text: string;
  /** ms from the call to the first text delta; null when none came. */
  ttftMs: number | null;
  /** ms from the call to the last token (or the failure). */
  totalMs: number;
  inputTokens: number;
  outputTokens: number;
  finishReason: string | null;
  /** The failure, or null. */
  error: string | null;
  /** `responses.id` of the recorded exchange, or null. */
  responseId: string | null;
}

/** The call options of a replay: the run's overrides, else the values originally sent. */
export function replayOptions(benchCase: BenchCase, candidate: string, settings: Pick<RunSettings, "maxTokens" | "temperature">): CompletionOptions {
  const temperature = settings.temperature ?? benchCase.temperature;
  return {
    model: candidate,
    maxTokens: settings.maxTokens ?? benchCase.maxTokens ?? DEFAULT_REPLAY_MAX_TOKENS,
    ...(temperature !== null ? { temperature } : {}),
    ...(benchCase.topP !== null ? { topP: benchCase.topP } : {}),
    ...(benchCase.stop !== null ? { stop: benchCase.stop } : {}),
    ...(Object.keys(benchCase.extra).length > 0 ? { extra: benchCase.extra } : {}),
  };
}

/** Streams `benchCase` to `candidate`. Never rejects (failures are in `error`). */
export async function replayCase(
  client: LLMClient,
  benchCase: BenchCase,
  candidate: string,
  settings: Pick<RunSettings, "maxTokens" | "temperature">,
  signal?: AbortSignal,
): Promise<CallOutcome> {
  const startedAt = performance.now();
  let firstAt: number | null = null;
  const stream = client.streamCompletion(benchCase.messages, { ...replayOptions(benchCase, candidate, settings), ...(signal ? { signal } : {}) });
  try {
    for await (const delta of stream) {
      if (firstAt === null && delta.length > 0) firstAt = performance.now();
    }
  } catch {
    // the final response says what went wrong
  }
  const response = await stream.response;
  return {
    text: response.content,
    ttftMs: firstAt === null ? null : round1(firstAt - startedAt),
    totalMs: round1(response.responseTime * 1000),
    inputTokens: response.inputTokens,
    outputTokens: response.outputTokens,
    finishReason: response.finishReason,
    error: response.success ? null : (response.error ?? "failed"),
    responseId: response.id || null,
  };
}

/**
 * Output tokens per second of generation: tokens / (total − TTFT); over the
 * total time when no TTFT is known or the answer came in one piece; null
 * without output tokens.
 */
export function tokensPerSecond(outputTokens: number, totalMs: number, ttftMs: number | null): number | null {
  if (outputTokens <= 0 || totalMs <= 0) return null;
  const generationMs = ttftMs !== null && totalMs - ttftMs >= 1 ? totalMs - ttftMs : totalMs;
  return round1((outputTokens * 1000) / generationMs);
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
