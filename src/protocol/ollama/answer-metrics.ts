/**
 * The last object of an Ollama answer carries its counts and timings
 * (https://github.com/ollama/ollama/blob/main/docs/api.md, "Generate a
 * completion": "The final response in the stream also includes additional
 * data about the generation"; every duration in nanoseconds), and why it
 * ended (`done_reason`). Made here from the chat answer's `usage` and
 * `finish_reason` and the proxy's own clock.
 */
import type { Usage } from "../chat-completion.js";

/** The counts and durations of a `done: true` object. Durations in ns, counts in tokens. */
export interface OllamaMetrics {
  /** From the request's start to the answer's end. */
  total_duration: number;
  /** Always 0: a proxy has no model to load. */
  load_duration: number;
  /** The prompt's tokens (the upstream's `usage.prompt_tokens`, else the proxy's estimate). */
  prompt_eval_count: number;
  /** From the request's start to the first output (TTFT) when streamed; 0 when not (it cannot be told apart). */
  prompt_eval_duration: number;
  /** The answer's tokens (`usage.completion_tokens`; 0 when the upstream gave no usage). */
  eval_count: number;
  /** From the first output to the end when streamed; the whole time when not. */
  eval_duration: number;
}

/** When an answer's phases happened, in ms since the epoch. */
export interface AnswerClock {
  /** The request's start. */
  startedAt: number;
  /** The first output (text, reasoning or a tool call) of a stream; null when not streamed or none came. */
  firstOutputAt: number | null;
  /** The answer's end. */
  endedAt: number;
}

const NS_PER_MS = 1_000_000;

/** Whole nanoseconds of a span in ms (never negative). */
function ns(ms: number): number {
  return Math.max(0, Math.round(ms * NS_PER_MS));
}

/**
 * The metrics of an answer.
 * @param promptEstimate the prompt's tokens as the proxy estimates them, for an upstream that gave no usage
 */
export function ollamaMetrics(
  usage: Usage | null | undefined,
  promptEstimate: number,
  clock: AnswerClock,
): OllamaMetrics {
  const split = clock.firstOutputAt ?? clock.startedAt;
  return {
    total_duration: ns(clock.endedAt - clock.startedAt),
    load_duration: 0,
    prompt_eval_count: count(usage?.prompt_tokens) ?? promptEstimate,
    prompt_eval_duration: ns(split - clock.startedAt),
    eval_count: count(usage?.completion_tokens) ?? 0,
    eval_duration: ns(clock.endedAt - split),
  };
}

/**
 * Ollama's `done_reason` of a chat `finish_reason`: `length` stays `length`; anything
 * else (`stop`, `tool_calls`, `content_filter`, none) is `stop`, as Ollama ends a tool call.
 */
export function doneReasonOf(finishReason: string | null | undefined): "stop" | "length" {
  return finishReason === "length" ? "length" : "stop";
}

/** A token count, or null for anything that is not a finite non-negative number. */
function count(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}
