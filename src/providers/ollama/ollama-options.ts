/**
 * The `options` object of an Ollama request (Modelfile parameters, see
 * docs/modelfile.mdx "Valid Parameters and Values" and the "Generate
 * request (With options)" example of docs/api.md), built from an OpenAI
 * request, and the deployment's `extra_body` merged into the body.
 */
import type { Deployment } from "../../config/schema.js";
import type { SamplingParams } from "../raw/sampling.js";
import type { OllamaOptions } from "./ollama-types.js";

/** Body keys the proxy sets itself; `extra_body` cannot replace them. */
const RESERVED_KEYS = new Set(["model", "messages", "prompt", "raw", "stream", "options"]);

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * Builds `options`. Later sources win: the deployment's
 * `extra_body.options`, then an `options` object the client sent, then the
 * OpenAI parameters (`max_tokens` → `num_predict`, `stop` → `stop`,
 * `temperature`, `top_p`, `top_k`, `seed`, `repeat_penalty`,
 * `frequency_penalty`, `presence_penalty`), and `num_ctx` always last.
 * @param params the request's sampling parameters (stop sequences included)
 * @param numCtx the context window to load the model with, in tokens
 * @param clientOptions the request body's own `options` field, if any
 */
export function ollamaOptions(
  params: SamplingParams,
  numCtx: number,
  deployment: Deployment,
  clientOptions?: unknown,
): OllamaOptions {
  const mapped: Record<string, unknown> = {};
  if (params.maxTokens !== null) mapped.num_predict = params.maxTokens;
  if (params.temperature !== undefined) mapped.temperature = params.temperature;
  if (params.topP !== undefined) mapped.top_p = params.topP;
  if (params.topK !== undefined) mapped.top_k = params.topK;
  if (params.seed !== undefined) mapped.seed = params.seed;
  if (params.repeatPenalty !== undefined) mapped.repeat_penalty = params.repeatPenalty;
  if (params.frequencyPenalty !== undefined) mapped.frequency_penalty = params.frequencyPenalty;
  if (params.presencePenalty !== undefined) mapped.presence_penalty = params.presencePenalty;
  if (params.stop.length > 0) mapped.stop = params.stop;
  return { ...asRecord(deployment.extra_body?.options), ...asRecord(clientOptions), ...mapped, num_ctx: numCtx };
}

/**
 * `body` with the deployment's `extra_body` fields (e.g. `keep_alive`)
 * added; `options` is merged by {@link ollamaOptions} and the keys the
 * proxy sets (`model`, `messages`, `prompt`, `raw`, `stream`) are kept.
 */
export function withExtraBody<T extends Record<string, unknown>>(body: T, deployment: Deployment): T {
  const extra = Object.entries(deployment.extra_body ?? {}).filter(([key]) => !RESERVED_KEYS.has(key));
  return extra.length === 0 ? body : { ...Object.fromEntries(extra), ...body };
}
