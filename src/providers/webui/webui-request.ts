/**
 * Maps a prompt and the client's sampling parameters to the bodies of
 * text-generation-webui's `/v1/completions` and legacy `/api/v1/generate`.
 *
 * Constrained decoding (`raw/constrained.ts`): webui takes a GBNF grammar as
 * `grammar_string` (`GenerationOptions` in extensions/openai/typing.py,
 * https://github.com/oobabooga/text-generation-webui/blob/main/extensions/openai/typing.py;
 * the legacy API's example request, api-examples/api-example.py, sends it
 * too) and no JSON schema, so the constraint goes as GBNF written by
 * node-llama-cpp (`raw/gbnf.ts`), with the grammar's stop sequences added to
 * the stop strings. Without a grammar (see `raw/gbnf.ts`) the prompt alone
 * asks for the call, and the answer is read and checked by the tool
 * convention.
 */
import type { Deployment } from "../../config/schema.js";
import type { GbnfGrammar } from "../raw/gbnf.js";
import type { SamplingParams } from "../raw/sampling.js";
import type { ProviderContext } from "../types.js";
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

/** The grammar keys of both APIs: `grammar_string`, and the stop strings with the grammar's own. */
function constrained(params: SamplingParams, grammar: GbnfGrammar | null): { grammar_string?: string; stop: string[] } {
  return grammar ? { grammar_string: grammar.grammar, stop: [...params.stop, ...grammar.stop] } : { stop: params.stop };
}

/**
 * The `POST /v1/completions` body; streams ask for `stream_options.include_usage`.
 * @param grammar the constraint's grammar (`raw/gbnf.ts`), sent as `grammar_string`; null: none
 */
export function completionsBody(
  prompt: string,
  params: SamplingParams,
  stream: boolean,
  options: WebuiBodyOptions,
  grammar: GbnfGrammar | null = null,
): WebuiCompletionsBody {
  const { grammar_string, stop } = constrained(params, grammar);
  return {
    ...options.extraBody,
    ...sampling(params, options),
    prompt,
    max_tokens: answerLimit(params, options).maxTokens,
    stop,
    stream,
    ...(stream ? { stream_options: { include_usage: true as const } } : {}),
    ...(grammar_string !== undefined ? { grammar_string } : {}),
  };
}

/**
 * The legacy `POST /api/v1/generate` body (stop strings under `stopping_strings`).
 * @param grammar the constraint's grammar (`raw/gbnf.ts`), sent as `grammar_string`; null: none
 */
export function legacyBody(
  prompt: string,
  params: SamplingParams,
  options: WebuiBodyOptions,
  grammar: GbnfGrammar | null = null,
): WebuiLegacyBody {
  const { grammar_string, stop } = constrained(params, grammar);
  return {
    ...options.extraBody,
    ...sampling(params, options),
    prompt,
    max_new_tokens: answerLimit(params, options).maxTokens,
    stopping_strings: stop,
    ...(grammar_string !== undefined ? { grammar_string } : {}),
  };
}

/**
 * The warning of a constrained webui request that gets no grammar (`raw/gbnf.ts`).
 * @param context where it is logged
 */
export function grammarWarning(context: ProviderContext, target: string): (reason: string) => void {
  return (reason) =>
    context.logger.warn(
      { provider: "webui", target, reason },
      "no grammar for this constrained request; the answer is generated from the prompt alone",
    );
}
