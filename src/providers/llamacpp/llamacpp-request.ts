/**
 * Maps a prompt and the client's sampling parameters to llama-server's
 * `POST /completion` body (tools/server/README.md, "POST /completion").
 */
import type { SamplingParams } from "../raw/sampling.js";
import type { LlamaCppCompletionBody } from "./llamacpp-api.js";

/**
 * The `/completion` body for `prompt`.
 * @param params the client's sampling parameters (stop = the client's + the format's)
 * @param stream whether to ask for an SSE stream
 * @param extraBody the deployment's `extra_body`, under the mapped keys (which win)
 */
export function completionBody(
  prompt: string,
  params: SamplingParams,
  stream: boolean,
  extraBody: Record<string, unknown> = {},
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
  return body;
}
