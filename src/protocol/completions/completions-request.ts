/**
 * The request body of OpenAI's legacy `POST /v1/completions`, validated with zod, following the API reference
 * (https://platform.openai.com/docs/api-reference/completions/create). Only the fields the proxy reads are typed;
 * every other field is kept (`looseObject`) for the record's `prompt_json`.
 *
 * What the proxy refuses, with a 400 naming the field: a `prompt` of token ids (`[1, 2]`, `[[1, 2]]`: the proxy
 * cannot know the upstream's vocabulary), `n` or `best_of` above 1 (one completion per prompt), and `logprobs`
 * outside 0–5 (the API's own range).
 */
import { z } from "zod";
import { invalidRequest, type RelayError } from "../errors.js";
import { openAIFieldError, parseRequestBody, type ZodIssueReading } from "../zod-issue.js";

/** The API's largest `logprobs` (top alternatives per token). */
export const MAX_LOGPROBS = 5;

/** The body. Unknown fields are kept. */
export const completionsRequestSchema = z.looseObject({
  model: z.string().min(1),
  /** One prompt, or several (each answered as its own choice). */
  prompt: z.union([z.string(), z.array(z.string()).min(1)]),
  suffix: z.string().nullish(),
  echo: z.boolean().nullish(),
  logprobs: z.number().int().min(0).max(MAX_LOGPROBS).nullish(),
  max_tokens: z.number().int().nonnegative().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  n: z
    .number()
    .int()
    .min(1)
    .max(1, "llm-relay answers one completion per prompt (send the request again for more)")
    .nullish(),
  best_of: z.number().int().min(1).max(1, "llm-relay answers one completion per prompt (no best_of)").nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  seed: z.number().int().nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  user: z.string().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
});

/** A validated `POST /v1/completions` body (unknown keys preserved). */
export type CompletionsRequest = z.infer<typeof completionsRequestSchema>;

/** The legacy API's `max_tokens` when the client sends none. */
export const LEGACY_DEFAULT_MAX_TOKENS = 16;

/**
 * Validates a `/v1/completions` body.
 * @throws RelayError 400 `invalid_request_error` naming the field in `param`: `missing_required_parameter` for a
 *   missing `model`/`prompt`, `invalid_value` otherwise (token-id prompts included)
 */
export function parseCompletionsRequest(body: unknown): CompletionsRequest {
  return parseRequestBody(
    completionsRequestSchema,
    body,
    "The request body must be a JSON object with 'model' and 'prompt'.",
    describe,
  );
}

/** The prompts of a request, in order (a string prompt is one). */
export function promptsOf(request: CompletionsRequest): string[] {
  return typeof request.prompt === "string" ? [request.prompt] : request.prompt;
}

function describe(issue: ZodIssueReading): RelayError {
  if (!issue.missing && issue.path[0] === "prompt") {
    return invalidRequest(
      "Invalid value for 'prompt': it must be a string or a non-empty array of strings (llm-relay does not take token ids).",
      "prompt",
      "invalid_value",
    );
  }
  return openAIFieldError(issue);
}
