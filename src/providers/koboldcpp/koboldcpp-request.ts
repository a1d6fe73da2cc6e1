/**
 * Maps a prompt and the client's sampling parameters to KoboldCpp's
 * generate body (koboldcpp.py 1.76, `generate()`'s `genparams` keys).
 *
 * Constrained decoding (`raw/constrained.ts`): KoboldCpp's generate API
 * documents one field for it, `grammar`, "a string containing the GBNF
 * grammar to use" (https://lite.koboldai.net/koboldcpp_api, `/api/v1/generate`).
 * It has no `json_schema` field: koboldcpp.py reads `json_schema` and
 * `response_format` only in its OpenAI chat adapter (`/v1/chat/completions`),
 * and recent builds turn a `grammar` that parses as JSON into GBNF with
 * their own converter, an undocumented convenience that 1.76 lacks (there
 * such a grammar fails to parse and the generation runs unconstrained). So
 * the constraint goes as GBNF written by node-llama-cpp (`raw/gbnf.ts`),
 * which every KoboldCpp with grammar support reads, with the grammar's stop
 * sequences added to `stop_sequence`. Without a grammar (see `raw/gbnf.ts`)
 * the prompt alone asks for the call, and the answer is read and checked by
 * the tool convention.
 */
import type { GbnfGrammar } from "../raw/gbnf.js";
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
  /** The constraint's grammar, sent as `grammar` (its stop sequences join `stop_sequence`); null or absent: none. */
  grammar?: GbnfGrammar | null;
}

/** The body of `POST /api/v1/generate` and `POST /api/extra/generate/stream`. */
export function generateBody(prompt: string, params: SamplingParams, options: GenerateBodyOptions): KoboldGenerateBody {
  const grammar = options.grammar ?? null;
  const stop = grammar ? [...params.stop, ...grammar.stop] : params.stop;
  const body: KoboldGenerateBody = { ...options.extraBody, prompt, stop_sequence: stop, trim_stop: true };
  if (grammar) body.grammar = grammar.grammar;
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
