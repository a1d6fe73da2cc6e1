/**
 * The generation settings of an Ollama request
 * (https://github.com/ollama/ollama/blob/main/docs/api.md; `options` are the
 * Modelfile parameters of docs/modelfile.md, "Valid Parameters and Values")
 * → the fields of a Chat Completions request
 * (https://platform.openai.com/docs/api-reference/chat/create):
 *
 * - `options.num_predict` → `max_tokens` (a negative value, Ollama's "no limit"
 *   or "fill the context", sets none); `temperature`, `top_p`, `seed`,
 *   `frequency_penalty`, `presence_penalty` → the same fields; `stop` → `stop`;
 *   `top_k`, `min_p` and `repeat_penalty` → the same-named fields llama.cpp, vLLM
 *   and the proxy's raw backends read;
 * - `format: "json"` → `response_format: {"type": "json_object"}`; a JSON schema →
 *   `response_format: {"type": "json_schema", "json_schema": {"name": "response", "schema": …}}`;
 * - `think: "low" | "medium" | "high"` → `reasoning_effort`;
 * - `logprobs`, `top_logprobs` → the same fields (the answer's come back as Ollama's `logprobs`).
 *
 * Left out, because chat has no word for them: `num_ctx` (the deployment's own
 * window applies), the other Modelfile options (`mirostat`, `num_gpu`, …),
 * `think: true`/`false` (a reasoning answer shows as `thinking` anyway, unless
 * the client said `false`), `keep_alive`.
 */
import type { OllamaFormat, OllamaOptions, OllamaThink } from "./ollama-request.js";

/** The chat request's sampling fields of `options`. */
export function optionsToChat(options: OllamaOptions | null | undefined): Record<string, unknown> {
  if (!options) return {};
  const out: Record<string, unknown> = {};
  if (typeof options.num_predict === "number" && options.num_predict >= 0) out.max_tokens = options.num_predict;
  for (const key of [
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "repeat_penalty",
  ] as const) {
    const value = options[key];
    if (typeof value === "number") out[key] = value;
  }
  const stop = typeof options.stop === "string" ? [options.stop] : (options.stop ?? []);
  if (stop.length > 0) out.stop = stop;
  return out;
}

/** The chat request's `response_format` for `format`, or null for free text. */
export function formatToChat(format: OllamaFormat | null | undefined): Record<string, unknown> | null {
  if (format === undefined || format === null || format === "") return null;
  if (format === "json") return { type: "json_object" };
  return { type: "json_schema", json_schema: { name: "response", schema: format } };
}

/** The chat request's `reasoning_effort` for `think`, or null when chat cannot say it. */
export function thinkToChat(think: OllamaThink | null | undefined): string | null {
  return typeof think === "string" ? think : null;
}

/** The chat request's `logprobs` and `top_logprobs` (`top_logprobs` asks for `logprobs` too, as chat requires). */
export function logprobsToChat(
  logprobs: boolean | null | undefined,
  topLogprobs: number | null | undefined,
): Record<string, unknown> {
  const top = typeof topLogprobs === "number" && topLogprobs > 0 ? topLogprobs : null;
  if (logprobs !== true && top === null) return {};
  return top === null ? { logprobs: true } : { logprobs: true, top_logprobs: top };
}
