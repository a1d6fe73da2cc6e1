/**
 * The sampling parameters of an OpenAI chat request, read once into one
 * shape that each raw backend maps to its own keys (`n_predict`,
 * `max_length`, `options.num_predict`, `stop_sequence`, …).
 */
import type { ChatCompletionRequest } from "../../protocol/chat-request.js";
import { requestedMaxTokens } from "./context-window.js";

/** Sampling parameters; absent ones were not given by the client. */
export interface SamplingParams {
  /** Tokens to generate at most, or null when the client set no `max_tokens`. */
  maxTokens: number | null;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  /** Non-OpenAI `repeat_penalty` (llama.cpp, Ollama), passed through when sent. */
  repeatPenalty?: number;
  /** The client's `stop` sequences, then the prompt format's (deduplicated). */
  stop: string[];
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/**
 * Reads the sampling parameters of `body`.
 * @param formatStop the prompt format's stop sequences, added after the client's
 */
export function samplingParams(body: ChatCompletionRequest, formatStop: readonly string[] = []): SamplingParams {
  const raw = body as Record<string, unknown>;
  const clientStop =
    typeof raw.stop === "string"
      ? [raw.stop]
      : Array.isArray(raw.stop)
        ? raw.stop.filter((s): s is string => typeof s === "string")
        : [];
  const maxTokens = requestedMaxTokens(body);
  const params: SamplingParams = {
    maxTokens: maxTokens > 0 ? maxTokens : null,
    stop: [...new Set([...clientStop, ...formatStop])],
  };
  const set = <K extends keyof SamplingParams>(key: K, value: SamplingParams[K] | undefined) => {
    if (value !== undefined) params[key] = value;
  };
  set("temperature", num(raw.temperature));
  set("topP", num(raw.top_p));
  set("topK", num(raw.top_k));
  set("seed", num(raw.seed));
  set("frequencyPenalty", num(raw.frequency_penalty));
  set("presencePenalty", num(raw.presence_penalty));
  set("repeatPenalty", num(raw.repeat_penalty));
  return params;
}
