/**
 * Maps a prompt and the client's sampling parameters to the bodies of
 * text-generation-webui's `/v1/completions` and legacy `/api/v1/generate`.
 * No constrained decoding (`raw/constrained.ts`): webui takes a GBNF
 * `grammar_string` only and llm-relay has no JSON-schema→GBNF converter, so a
 * required tool call or a JSON `response_format` relies on the prompt
 * alone and the answer is read and checked by the tool convention.
 */
import type { Deployment } from "../../config/schema.js";
import type { SamplingParams } from "../raw/sampling.js";
import type { WebuiCompletionsBody, WebuiLegacyBody, WebuiSampling } from "./webui-api.js";

/**
 * `max_tokens` when neither the client nor the deployment set one: webui's
 * own default for that case (modules/api/completions.py sends 512 with
 * `auto_max_new_tokens`, which lets the answer grow to the free context).
 */
export const DEFAULT_MAX_NEW_TOKENS = 512;

/** Deployment settings that shape the bodies. */
export interface WebuiBodyOptions {
  /** The model's window in tokens, sent as `truncation_length`; null leaves webui's own setting. */
  contextWindow: number | null;
  /** The limit when the client set no `max_tokens` (the deployment's `max_output_tokens`), or null for webui's default. */
  defaultMaxTokens: number | null;
  /** The deployment's `extra_body`, under the mapped keys (which win). */
  extraBody?: Record<string, unknown>;
}

/** What the deployment adds to every request body: `context_window`, `max_output_tokens`, `extra_body`. */
export function webuiBodyOptions(deployment: Deployment): WebuiBodyOptions {
  return {
    contextWindow: deployment.context_window ?? null,
    defaultMaxTokens: deployment.max_output_tokens ?? null,
    extraBody: deployment.extra_body ?? {},
  };
}

/** The answer's token limit, and whether webui may grow it (`auto_max_new_tokens`, when nobody set one). */
export function answerLimit(params: SamplingParams, options: WebuiBodyOptions): { maxTokens: number; auto: boolean } {
  const maxTokens = params.maxTokens ?? options.defaultMaxTokens;
  return maxTokens === null ? { maxTokens: DEFAULT_MAX_NEW_TOKENS, auto: true } : { maxTokens, auto: false };
}

/** The sampling keys of both APIs. */
function sampling(params: SamplingParams, options: WebuiBodyOptions): WebuiSampling {
  const out: WebuiSampling = {};
  if (params.temperature !== undefined) out.temperature = params.temperature;
  if (params.topP !== undefined) out.top_p = params.topP;
  if (params.topK !== undefined) out.top_k = params.topK;
  if (params.seed !== undefined) out.seed = params.seed;
  if (params.repeatPenalty !== undefined) out.repetition_penalty = params.repeatPenalty;
  if (params.presencePenalty !== undefined) out.presence_penalty = params.presencePenalty;
  if (params.frequencyPenalty !== undefined) out.frequency_penalty = params.frequencyPenalty;
  if (options.contextWindow !== null) out.truncation_length = options.contextWindow;
  if (answerLimit(params, options).auto) out.auto_max_new_tokens = true;
  return out;
}

/** The `POST /v1/completions` body; streams ask for `stream_options.include_usage`. */
export function completionsBody(
  prompt: string,
  params: SamplingParams,
  stream: boolean,
  options: WebuiBodyOptions,
): WebuiCompletionsBody {
  return {
    ...options.extraBody,
    ...sampling(params, options),
    prompt,
    max_tokens: answerLimit(params, options).maxTokens,
    stop: params.stop,
    stream,
    ...(stream ? { stream_options: { include_usage: true as const } } : {}),
  };
}

/** The legacy `POST /api/v1/generate` body (stop strings under `stopping_strings`). */
export function legacyBody(prompt: string, params: SamplingParams, options: WebuiBodyOptions): WebuiLegacyBody {
  return {
    ...options.extraBody,
    ...sampling(params, options),
    prompt,
    max_new_tokens: answerLimit(params, options).maxTokens,
    stopping_strings: params.stop,
  };
}
