/**
 * The OpenAI Embeddings API on the wire: the request body of
 * `POST /v1/embeddings` (validated with zod; unknown fields are kept and
 * reach the upstream as sent) and the `list` of `embedding` objects it
 * answers. Follows OpenAI's API reference
 * (https://platform.openai.com/docs/api-reference/embeddings/create):
 * `input` is a string, an array of strings, an array of token ids, or an
 * array of token-id arrays (not empty, at most 2048 items, no empty
 * string); `encoding_format` is `float` (default) or `base64` (each vector
 * as the base64 of its little-endian float32 bytes, as OpenAI and Ollama's
 * OpenAI layer encode it); `dimensions` shortens the vectors.
 */
import { z } from "zod";
import { EVENT_LOOP_COUNT_LIMIT_CHARS, TokenCounter } from "../tokens/count.js";
import { invalidRequest, type RelayError } from "./errors.js";
import { openAIFieldError, parseRequestBody, type ZodIssueReading } from "./zod-issue.js";

/** Most inputs in one request (OpenAI's limit on the `input` array). */
export const MAX_EMBEDDING_INPUTS = 2048;

const INPUT_MESSAGE =
  "must be a non-empty string, an array of strings, an array of token ids, or an array of token-id arrays (at most 2048 items)";

const tokenIds = z.array(z.number().int().nonnegative()).min(1);

/** `input`: one text, several texts, one token array, or several token arrays. */
export const embeddingInputSchema = z.union(
  [
    z.string().min(1),
    z.array(z.string().min(1)).min(1).max(MAX_EMBEDDING_INPUTS),
    tokenIds.max(MAX_EMBEDDING_INPUTS),
    z.array(tokenIds).min(1).max(MAX_EMBEDDING_INPUTS),
  ],
  { error: INPUT_MESSAGE },
);

/** The request body. Unknown fields pass through to the upstream. */
export const embeddingRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: embeddingInputSchema,
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});

/** A validated embeddings request (unknown keys preserved). */
export type EmbeddingRequest = z.infer<typeof embeddingRequestSchema>;
/** A validated `input`. */
export type EmbeddingInput = EmbeddingRequest["input"];

/** One vector of the answer: floats, or (with `encoding_format: "base64"`) the base64 of its little-endian float32 bytes. */
export interface EmbeddingObject {
  object: "embedding";
  /** Position of the input this vector embeds. */
  index: number;
  embedding: number[] | string;
}

/** `usage` of an embeddings answer, in tokens (`total_tokens` = `prompt_tokens`: embeddings produce no output tokens). */
export interface EmbeddingUsage {
  prompt_tokens: number;
  total_tokens: number;
}

/** The answer of `POST /v1/embeddings`. */
export interface EmbeddingList {
  object: "list";
  data: EmbeddingObject[];
  /** The model that made the vectors, as the upstream names it. */
  model: string;
  usage: EmbeddingUsage;
}

/**
 * The validated body.
 * @throws RelayError 400 `invalid_request_error` naming the field in `param`:
 *   `missing_required_parameter` for a missing `model`/`input`, `invalid_value` otherwise
 */
export function validateEmbeddingRequest(body: unknown): EmbeddingRequest {
  return parseRequestBody(
    embeddingRequestSchema,
    body,
    "The request body must be a JSON object with 'model' and 'input'.",
    describe,
  );
}

function describe(issue: ZodIssueReading): RelayError {
  // A union reports its own message; the first path element is the field the client got wrong.
  if (!issue.missing && issue.path[0] === "input")
    return invalidRequest(`Invalid value for 'input': it ${INPUT_MESSAGE}.`, "input", "invalid_value");
  return openAIFieldError(issue);
}

/** How many vectors `input` asks for: 1 for a string or one token array, else the array's length. */
export function embeddingInputCount(input: EmbeddingInput): number {
  if (typeof input === "string") return 1;
  return typeof input[0] === "number" ? 1 : input.length;
}

/** `input` as a list of texts, or null when it is made of token ids. */
export function embeddingTexts(input: EmbeddingInput): string[] | null {
  if (typeof input === "string") return [input];
  return typeof input[0] === "string" ? (input as string[]) : null;
}

/** The number of token ids in a token-id `input` (exact), or null for text input. */
export function embeddingTokenIdCount(input: EmbeddingInput): number | null {
  if (typeof input === "string" || typeof input[0] === "string") return null;
  if (typeof input[0] === "number") return input.length;
  return (input as number[][]).reduce((n, ids) => n + ids.length, 0);
}

/**
 * The input tokens of a request whose upstream reported none: exact for
 * token-id input (the ids are the tokens), a gpt-tokenizer count of the
 * texts otherwise (an estimate for any other tokenizer, flagged as such).
 * Runs on the event loop: at most {@link EVENT_LOOP_COUNT_LIMIT_CHARS}
 * characters are counted, the texts past them estimated from their size.
 */
export function countEmbeddingInputTokens(input: EmbeddingInput): { tokens: number; estimated: boolean } {
  const ids = embeddingTokenIdCount(input);
  if (ids !== null) return { tokens: ids, estimated: false };
  const counter = new TokenCounter(EVENT_LOOP_COUNT_LIMIT_CHARS);
  return { tokens: (embeddingTexts(input) ?? []).reduce((n, text) => n + counter.text(text), 0), estimated: true };
}

/** A vector as OpenAI's `base64` encoding: the base64 of its values as little-endian float32. */
export function floatsToBase64(values: readonly number[]): string {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString("base64");
}

/** What the proxy needs to know of an upstream's embeddings answer, read without parsing the vectors. */
export interface EmbeddingBodyFacts {
  /** `model` of the answer, or null when absent. */
  model: string | null;
  /** `usage.prompt_tokens`, or null when the upstream reported none. */
  promptTokens: number | null;
  /** Length of the first vector (floats; base64 bytes / 4), or null when there is none. */
  dimensions: number | null;
}

/**
 * Reads `model`, `usage.prompt_tokens` and the first vector's length from
 * an OpenAI embeddings body without parsing every vector (a large batch is
 * megabytes of numbers): the keys are found by a textual scan — vectors
 * hold only numbers or base64 text, so the key names cannot occur inside
 * them. Fields that cannot be read are null; never throws.
 */
export function peekEmbeddingBody(body: string): EmbeddingBodyFacts {
  const model = /"model"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(body)?.[1] ?? null;
  let promptTokens: number | null = null;
  const usageAt = body.lastIndexOf('"usage"');
  if (usageAt >= 0) {
    const found = /^"usage"\s*:\s*\{[^{}]*?"prompt_tokens"\s*:\s*(\d+)/.exec(body.slice(usageAt, usageAt + 400));
    if (found) promptTokens = Number(found[1]);
  }
  return { model, promptTokens, dimensions: firstVectorLength(body) };
}

function firstVectorLength(body: string): number | null {
  const key = /"embedding"\s*:\s*/g.exec(body);
  if (!key) return null;
  const start = key.index + key[0].length;
  if (body[start] === '"') {
    const end = body.indexOf('"', start + 1);
    return end < 0 ? null : Math.floor(Buffer.byteLength(body.slice(start + 1, end), "base64") / 4);
  }
  if (body[start] !== "[") return null;
  const end = body.indexOf("]", start);
  if (end < 0) return null;
  const inner = body.slice(start + 1, end).trim();
  if (inner === "") return 0;
  let commas = 0;
  for (let i = start + 1; i < end; i++) if (body.charCodeAt(i) === 44) commas++;
  return commas + 1;
}
