/**
 * One replay: the case's messages, as originally sent, streamed to a
 * candidate model through the library client (in-process: the proxy's own
 * router, providers and recorder), timing the first text (TTFT) and the
 * end.
 */
import { performance } from "node:perf_hooks";
import type { CompletionOptions, LLMClient } from "../library/types.js";
import type { BenchCase, RunSettings } from "./types.js";

/** What one replay produced. */
export interface CallOutcome {
  /** The answer's text (partial when the stream broke off). */
  text: string;
  /** ms from the call to the first text delta; null when none came. */
  ttftMs: number | null;
  /** ms from the call to the last token (or the failure). */
  totalMs: number;
  /** Prompt and completion tokens: those of the call's record (the upstream's usage, else estimated). */
  inputTokens: number;
  outputTokens: number;
  /** Whether the counts were estimated (the record's `usage_estimated`). */
  usageEstimated: boolean;
  finishReason: string | null;
  /** The failure, or null. */
  error: string | null;
  /** `responses.id` of the recorded exchange, or null. */
  responseId: string | null;
}

/** The settings a replay's options depend on. */
export type ReplaySettings = Pick<RunSettings, "maxTokens" | "temperature" | "contextWindows">;

/**
 * `max_tokens` of a replay of `benchCase` on `candidate`: `--max-tokens`, else what the original
 * request sent, else the candidate's context window minus the case's prompt tokens (when the
 * window is known and larger), else null (none is sent: the candidate's own default). Never a
 * fixed number, which could make a small-window candidate fail a case it could answer.
 */
export function replayMaxTokens(benchCase: BenchCase, candidate: string, settings: ReplaySettings): number | null {
  if (settings.maxTokens !== null) return settings.maxTokens;
  if (benchCase.maxTokens !== null) return benchCase.maxTokens;
  const window = settings.contextWindows?.[candidate] ?? null;
  return window !== null && window > benchCase.inputTokens ? window - benchCase.inputTokens : null;
}

/**
 * The call options of a replay: the run's overrides, else the values originally sent; a field
 * the original request did not set is not sent (null overrides the library's own defaults).
 */
export function replayOptions(benchCase: BenchCase, candidate: string, settings: ReplaySettings): CompletionOptions {
  return {
    model: candidate,
    maxTokens: replayMaxTokens(benchCase, candidate, settings),
    temperature: settings.temperature ?? benchCase.temperature,
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
  settings: ReplaySettings,
  signal?: AbortSignal,
): Promise<CallOutcome> {
  const startedAt = performance.now();
  let firstAt: number | null = null;
  const stream = client.streamCompletion(benchCase.messages, {
    ...replayOptions(benchCase, candidate, settings),
    ...(signal ? { signal } : {}),
  });
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
    usageEstimated: response.usageEstimated,
    finishReason: response.finishReason,
    error: response.success ? null : (response.error ?? "failed"),
    responseId: response.id || null,
  };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
