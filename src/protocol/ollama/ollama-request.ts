/**
 * The request bodies of Ollama's native API that llm-relay serves, validated
 * with zod, as docs/api.md of github.com/ollama/ollama documents them
 * (https://github.com/ollama/ollama/blob/main/docs/api.md): `POST /api/chat`
 * ("Generate a chat completion"), `POST /api/generate` ("Generate a
 * completion"), `POST /api/embed` and the older `POST /api/embeddings`
 * ("Generate Embeddings"), `POST /api/show`.
 *
 * Every object is loose: fields llm-relay does not read (`keep_alive`,
 * `logprobs`, Modelfile options chat has no word for, …) are kept as the
 * client sent them, for the record (`prompt_json`). A 400 names the field
 * (`messages.1.role: …`), as a string in Ollama's `{"error": "…"}`.
 */
import { z } from "zod";
import { invalidRequest, type RelayError } from "../errors.js";
import { parseRequestBody, type ZodIssueReading } from "../zod-issue.js";

/** A tool call of an assistant message: `arguments` an object (Ollama's form; a JSON string is taken too). */
const toolCall = z.looseObject({
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.looseObject({
    index: z.number().int().optional(),
    name: z.string().min(1),
    arguments: z.union([z.record(z.string(), z.unknown()), z.string()]).optional(),
  }),
});

/** One message of `/api/chat`: `images` are base64 strings without a `data:` prefix; `tool_name` names a tool result's tool. */
const message = z.looseObject({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string().nullish(),
  images: z.array(z.string().min(1)).nullish(),
  thinking: z.string().nullish(),
  tool_calls: z.array(toolCall).nullish(),
  tool_name: z.string().nullish(),
  tool_call_id: z.string().nullish(),
});

/**
 * `options`: the Modelfile parameters (docs/modelfile.md, "Valid Parameters and Values"). The ones mapped to
 * chat are typed; the others (`num_ctx`, `mirostat`, `num_gpu`, …) are kept unread.
 */
const options = z.looseObject({
  num_ctx: z.number().int().nullish(),
  num_predict: z.number().int().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  top_k: z.number().int().nullish(),
  min_p: z.number().nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  frequency_penalty: z.number().nullish(),
  presence_penalty: z.number().nullish(),
  repeat_penalty: z.number().nullish(),
});

/** A function tool (`{"type": "function", "function": {name, description, parameters}}`), the shape chat uses too. */
const tool = z.looseObject({
  type: z.string().min(1),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
  }),
});

/** `format`: `"json"`, a JSON schema (an object), or empty/absent for free text. */
const format = z.union([z.literal(""), z.literal("json"), z.record(z.string(), z.unknown())], {
  error: 'expected "json" or a JSON schema object',
});

/** `think`: on/off, or a level for models that have levels. */
const think = z.union([z.boolean(), z.enum(["low", "medium", "high"])], {
  error: 'expected true, false, "low", "medium" or "high"',
});

/** The fields `/api/chat` and `/api/generate` share. */
const generationFields = {
  model: z.string().min(1),
  stream: z.boolean().nullish(),
  format: format.nullish(),
  options: options.nullish(),
  think: think.nullish(),
  keep_alive: z.union([z.string(), z.number()]).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
};

/** The body of `POST /api/chat`. Unknown fields are kept. */
export const ollamaChatRequestSchema = z.looseObject({
  ...generationFields,
  messages: z.array(message).min(1, { error: "at least one message is required" }),
  tools: z.array(tool).nullish(),
});

/** The body of `POST /api/generate`. Unknown fields are kept. */
export const ollamaGenerateRequestSchema = z.looseObject({
  ...generationFields,
  prompt: z.string().min(1, { error: "a prompt is required" }),
  suffix: z.string().nullish(),
  system: z.string().nullish(),
  template: z.string().nullish(),
  context: z.array(z.number()).nullish(),
  raw: z.boolean().nullish(),
  images: z.array(z.string().min(1)).nullish(),
});

/** The body of `POST /api/embed`: one text or several. Unknown fields are kept. */
export const ollamaEmbedRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
    error: "expected a non-empty string or a non-empty array of non-empty strings",
  }),
  truncate: z.boolean().nullish(),
  dimensions: z.number().int().positive().nullish(),
  options: options.nullish(),
  keep_alive: z.union([z.string(), z.number()]).nullish(),
});

/** The body of the older `POST /api/embeddings`: one `prompt`. Unknown fields are kept. */
export const ollamaEmbeddingsRequestSchema = z.looseObject({
  model: z.string().min(1),
  prompt: z.string().min(1),
  options: options.nullish(),
  keep_alive: z.union([z.string(), z.number()]).nullish(),
});

/** The body of `POST /api/show` (`name` is its older spelling of `model`). */
export const ollamaShowRequestSchema = z.looseObject({
  model: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  verbose: z.boolean().nullish(),
});

/** A validated `/api/chat` message. */
export type OllamaMessage = z.infer<typeof message>;
/** A validated tool call of an assistant message. */
export type OllamaToolCall = z.infer<typeof toolCall>;
/** Validated `options`. */
export type OllamaOptions = z.infer<typeof options>;
/** A validated `format`. */
export type OllamaFormat = z.infer<typeof format>;
/** A validated `think`. */
export type OllamaThink = z.infer<typeof think>;
/** A validated function tool. */
export type OllamaTool = z.infer<typeof tool>;
/** A validated `/api/chat` body (unknown fields kept). */
export type OllamaChatRequest = z.infer<typeof ollamaChatRequestSchema>;
/** A validated `/api/generate` body (unknown fields kept). */
export type OllamaGenerateRequest = z.infer<typeof ollamaGenerateRequestSchema>;
/** A validated `/api/embed` body. */
export type OllamaEmbedRequest = z.infer<typeof ollamaEmbedRequestSchema>;
/** A validated `/api/embeddings` body. */
export type OllamaEmbeddingsRequest = z.infer<typeof ollamaEmbeddingsRequestSchema>;

/**
 * Validates `body` against `schema`.
 * @throws RelayError 400 naming the first offending field (`model is required`, `messages.0.role: …`)
 */
export function validateOllamaBody<T>(schema: z.ZodType<T>, body: unknown): T {
  return parseRequestBody(schema, body, "The request body must be a JSON object.", describe);
}

/** One 400 for zod's first finding: `<field> is required` when it is missing, else `<path>: <message>`. */
function describe(issue: ZodIssueReading): RelayError {
  const { param } = issue;
  if (issue.missing) return invalidRequest(`${param} is required`, param);
  return invalidRequest(param ? `${param}: ${issue.message}` : issue.message, param || null);
}
