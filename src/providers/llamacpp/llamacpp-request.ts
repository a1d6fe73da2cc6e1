/**
 * Maps a prompt and the client's sampling parameters to llama-server's
 * `POST /completion` body (tools/server/README.md, "POST /completion",
 * https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md).
 * A constrained answer (`raw/constrained.ts`) goes as `json_schema`, which
 * llama-server converts to a grammar itself; it takes either `json_schema`
 * or `grammar`, not both, so a `grammar` from `extra_body` is left out then.
 */
import { constraintSchema, type OutputConstraint } from "../raw/constrained.js";
import type { SamplingParams } from "../raw/sampling.js";
import type { LlamaCppCompletionBody } from "./llamacpp-api.js";

/**
 * The `/completion` body for `prompt`.
 * @param params the client's sampling parameters (stop = the client's + the format's)
 * @param stream whether to ask for an SSE stream
 * @param extraBody the deployment's `extra_body`, under the mapped keys (which win)
 * @param constraint what the answer must be (JSON per a schema), or null
 */
export function completionBody(
  prompt: string,
  params: SamplingParams,
  stream: boolean,
  extraBody: Record<string, unknown> = {},
  constraint: OutputConstraint | null = null,
): LlamaCppCompletionBody {
  const body: LlamaCppCompletionBody = { ...extraBody, prompt, stream, stop: params.stop, cache_prompt: true };
  if (params.maxTokens !== null) body.n_predict = params.maxTokens;
  if (params.temperature !== undefined) body.temperature = params.temperature;
  if (params.topP !== undefined) body.top_p = params.topP;
  if (params.topK !== undefined) body.top_k = params.topK;
  if (params.seed !== undefined) body.seed = params.seed;
  if (params.repeatPenalty !== undefined) body.repeat_penalty = params.repeatPenalty;
  if (params.presencePenalty !== undefined) body.presence_penalty = params.presencePenalty;
  if (params.frequencyPenalty !== undefined) body.frequency_penalty = params.frequencyPenalty;
  if (constraint) {
    delete body.grammar;
    body.json_schema = constraintSchema(constraint);
  }
  return body;
}

/**
 * The `POST /infill` body (fill-in-the-middle, tools/server/README.md "POST /infill"): the text before the insertion
 * point as `input_prefix`, the text after it as `input_suffix`, an empty `prompt` (what llama-server puts after the
 * FIM middle token), and the same sampling keys as `/completion` (which `/infill` also takes). The server wraps
 * them in the model's own FIM tokens.
 * @param prefix the text before the insertion point (the client's `prompt`)
 * @param suffix the text after it (the client's `suffix`)
 */
export function infillBody(
  prefix: string,
  suffix: string,
  params: SamplingParams,
  stream: boolean,
  extraBody: Record<string, unknown> = {},
): LlamaCppCompletionBody {
  return { ...completionBody("", params, stream, extraBody), input_prefix: prefix, input_suffix: suffix };
}
