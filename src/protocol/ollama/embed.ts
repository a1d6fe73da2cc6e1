/**
 * Ollama's embeddings endpoints (https://github.com/ollama/ollama/blob/main/docs/api.md,
 * "Generate Embeddings" and the superseded "Generate Embedding") on the proxy's
 * OpenAI embeddings core (`server/routes/embeddings.ts`,
 * https://platform.openai.com/docs/api-reference/embeddings/create):
 *
 * - `POST /api/embed` `{model, input, dimensions?}` → OpenAI's `{model, input, dimensions?}`;
 *   the answer `{model, embeddings: [[…]], total_duration, load_duration, prompt_eval_count}`
 *   (durations in ns; the count is the upstream's `usage.prompt_tokens`, else the proxy's);
 * - `POST /api/embeddings` `{model, prompt}` → OpenAI's `{model, input: prompt}`; the answer
 *   `{embedding: […]}`.
 *
 * `truncate`, `options` and `keep_alive` are accepted and not sent (OpenAI's API has no word
 * for them).
 */
import { countEmbeddingInputTokens, type EmbeddingInput, type EmbeddingRequest } from "../embeddings.js";
import { upstreamInvalidResponse } from "../errors.js";
import { ollamaEmbeddingsRequestSchema, ollamaEmbedRequestSchema, validateOllamaBody } from "./ollama-request.js";

/**
 * The OpenAI embeddings request of an `/api/embed` body.
 * @throws RelayError 400 naming the field
 */
export function parseOllamaEmbed(body: unknown): EmbeddingRequest {
  const request = validateOllamaBody(ollamaEmbedRequestSchema, body);
  const out: EmbeddingRequest = { model: request.model, input: request.input };
  if (typeof request.dimensions === "number") out.dimensions = request.dimensions;
  return out;
}

/**
 * The OpenAI embeddings request of an `/api/embeddings` body.
 * @throws RelayError 400 naming the field
 */
export function parseOllamaEmbeddings(body: unknown): EmbeddingRequest {
  const request = validateOllamaBody(ollamaEmbeddingsRequestSchema, body);
  return { model: request.model, input: request.prompt };
}

/** What the answers are made from: the upstream's OpenAI `list` body and the exchange's facts. */
export interface EmbedAnswerInput {
  /** The OpenAI embeddings answer (JSON text). */
  rawBody: string;
  /** The model the client named. */
  model: string;
  /** The request as sent upstream (its `input`, for a count when the upstream gave none). */
  input: EmbeddingInput;
  /** Input tokens the upstream reported, or null. */
  promptTokens: number | null;
  /** From the request's start to now, in ms. */
  elapsedMs: number;
}

/**
 * The `/api/embed` answer (JSON text).
 * @throws RelayError 502 `upstream_invalid_response` when the body holds no vectors
 */
export function embedAnswer(input: EmbedAnswerInput): string {
  return JSON.stringify({
    model: input.model,
    embeddings: vectorsOf(input.rawBody),
    total_duration: Math.max(0, Math.round(input.elapsedMs * 1_000_000)),
    load_duration: 0,
    prompt_eval_count: input.promptTokens ?? countEmbeddingInputTokens(input.input).tokens,
  });
}

/**
 * The `/api/embeddings` answer (JSON text): the first vector.
 * @throws RelayError 502 `upstream_invalid_response` when the body holds no vector
 */
export function embeddingsAnswer(input: EmbedAnswerInput): string {
  const [first] = vectorsOf(input.rawBody);
  if (!first) throw upstreamInvalidResponse("an embeddings answer without a vector", input.rawBody);
  return JSON.stringify({ embedding: first });
}

/** The vectors of an OpenAI `list` body, in input order (a base64 vector decoded from little-endian float32). */
function vectorsOf(rawBody: string): number[][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody);
  } catch {
    throw upstreamInvalidResponse("an embeddings answer that is not JSON", rawBody);
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw upstreamInvalidResponse("an embeddings answer without 'data'", rawBody);
  return data
    .map((item, position) => {
      const { index, embedding } = (item ?? {}) as { index?: unknown; embedding?: unknown };
      return { order: typeof index === "number" ? index : position, vector: vectorOf(embedding, rawBody) };
    })
    .sort((a, b) => a.order - b.order)
    .map((entry) => entry.vector);
}

function vectorOf(embedding: unknown, rawBody: string): number[] {
  if (Array.isArray(embedding) && embedding.every((value) => typeof value === "number")) return embedding;
  if (typeof embedding === "string") {
    const bytes = Buffer.from(embedding, "base64");
    return Array.from({ length: Math.floor(bytes.length / 4) }, (_, i) => bytes.readFloatLE(i * 4));
  }
  throw upstreamInvalidResponse("an embedding that is not a vector of numbers", rawBody);
}
