/**
 * Maps a prompt and the client's sampling parameters to KoboldCpp's
 * generate body (koboldcpp.py 1.76, `generate()`'s `genparams` keys).
 * No constrained decoding (`raw/constrained.ts`): KoboldCpp takes a GBNF
 * `grammar` only and llm-relay has no JSON-schema→GBNF converter, so a
 * required tool call or a JSON `response_format` relies on the prompt
 * alone and the answer is read and checked by the tool convention.
 */
import type { SamplingParams } from "../raw/sampling.js";
import type { KoboldGenerateBody } from "./koboldcpp-api.js";

/** Deployment settings that shape the body. */
export interface GenerateBodyOptions {
  /** The model's window in tokens, sent as `max_context_length`; null leaves KoboldCpp's own. */
  contextWindow: number | null;
  /** `max_length` when the client set no `max_tokens` (the deployment's `max_output_tokens`); null leaves KoboldCpp's default (180 tokens in 1.76). */
  defaultMaxLength: number | null;
  /** The deployment's `extra_body`, under the mapped keys (which win). */
  extraBody?: Record<string, unknown>;
}

/** The body of `POST /api/v1/generate` and `POST /api/extra/generate/stream`. */
export function generateBody(prompt: string, params: SamplingParams, options: GenerateBodyOptions): KoboldGenerateBody {
  const body: KoboldGenerateBody = { ...options.extraBody, prompt, stop_sequence: params.stop, trim_stop: true };
  const maxLength = params.maxTokens ?? options.defaultMaxLength;
  if (maxLength !== null) body.max_length = maxLength;
  if (options.contextWindow !== null) body.max_context_length = options.contextWindow;
  if (params.repeatPenalty !== undefined) body.rep_pen = params.repeatPenalty;
  if (params.temperature !== undefined) body.temperature = params.temperature;
  if (params.topP !== undefined) body.top_p = params.topP;
  if (params.topK !== undefined) body.top_k = params.topK;
  if (params.presencePenalty !== undefined) body.presence_penalty = params.presencePenalty;
  if (params.seed !== undefined) body.sampler_seed = params.seed;
  return body;
}
