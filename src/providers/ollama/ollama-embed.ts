/**
 * Embeddings through Ollama's native `POST /api/embed` (docs/api.md,
 * "Generate Embeddings"; the shapes relied on are in
 * test/fixtures/protocols/ollama/embed.json). An OpenAI embeddings request
 * becomes `{model, input, dimensions?, truncate?, options?, keep_alive?}`;
 * the answer `{model, embeddings: number[][], prompt_eval_count, …}`
 * becomes OpenAI's `list` of `embedding` objects, in floats or, with
 * `encoding_format: "base64"`, as the base64 of little-endian float32
 * (as Ollama's own OpenAI layer encodes them, openai/openai.go
 * `floatsToBase64`). `usage.prompt_tokens` is `prompt_eval_count`; when
 * Ollama leaves it out (it is `omitempty`) the texts are counted with
 * gpt-tokenizer and the result is flagged as estimated.
 */
import type { Deployment } from "../../config/schema.js";
import {
  countEmbeddingInputTokens,
  embeddingTexts,
  floatsToBase64,
  type EmbeddingList,
  type EmbeddingRequest,
} from "../../protocol/embeddings.js";
import { invalidRequest } from "../../protocol/errors.js";
import {
  isTotalTimeout,
  releaseTotalTimeout,
  totalTimeoutError,
  withTotalTimeout,
  type DeploymentTimeouts,
} from "../http/timeouts.js";
import type { EmbeddingCall, EmbeddingResult } from "../types.js";
import { postToOllama, readOllamaObject, type OllamaTransport } from "./ollama-http.js";
import { withExtraBody } from "./ollama-options.js";

/** The body of `POST /api/embed` (api/types.go `EmbedRequest`). */
export interface OllamaEmbedRequest extends Record<string, unknown> {
  model: string;
  /** One text or several. */
  input: string | string[];
  /** Cut each input to the context length (Ollama's default: true; false → an error for a longer input). */
  truncate?: boolean;
  /** Shorten the vectors to this many dimensions. */
  dimensions?: number;
  /** Modelfile parameters. */
  options?: Record<string, unknown>;
  /** How long the model stays loaded afterwards (`"5m"`, seconds, …). */
  keep_alive?: unknown;
}

/** The answer of `POST /api/embed` (api/types.go `EmbedResponse`; durations in ns, counts omitted when 0). */
export interface OllamaEmbedResponse {
  model?: string;
  embeddings: number[][];
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * The `/api/embed` body of an OpenAI request: the texts, `dimensions`, and
 * the Ollama fields a client may send along (`truncate`, `options`,
 * `keep_alive`); the deployment's `extra_body` fills what the client left
 * out (`extra_body.options` under the client's `options`).
 * @throws RelayError 400 for token-id input (Ollama embeds text only)
 */
export function toOllamaEmbedRequest(body: EmbeddingRequest, deployment: Deployment): OllamaEmbedRequest {
  const texts = embeddingTexts(body.input);
  if (!texts)
    throw invalidRequest(
      "This model is served by Ollama, whose /api/embed takes text only; send 'input' as a string or an array of strings, not token ids.",
      "input",
      "invalid_value",
    );
  const raw = body as Record<string, unknown>;
  const options = { ...record(deployment.extra_body?.options), ...record(raw.options) };
  return withExtraBody<OllamaEmbedRequest>(
    {
      model: body.model,
      input: typeof body.input === "string" ? body.input : texts,
      ...(body.dimensions !== undefined ? { dimensions: body.dimensions } : {}),
      ...(typeof raw.truncate === "boolean" ? { truncate: raw.truncate } : {}),
      ...(Object.keys(options).length > 0 ? { options } : {}),
      ...(raw.keep_alive !== undefined ? { keep_alive: raw.keep_alive } : {}),
    },
    deployment,
  );
}

/**
 * OpenAI's `list` of an `/api/embed` answer.
 * @param promptTokens the input tokens for `usage`
 */
export function toEmbeddingList(
  answer: OllamaEmbedResponse,
  model: string,
  format: "float" | "base64",
  promptTokens: number,
): EmbeddingList {
  return {
    object: "list",
    data: answer.embeddings.map((vector, index) => ({
      object: "embedding",
      index,
      embedding: format === "base64" ? floatsToBase64(vector) : vector,
    })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

/**
 * The `embed` method of an Ollama deployment.
 * @returns a function that rejects with a RelayError: 400 for token-id input, 404
 *   `model_not_found` for a model Ollama has not pulled, 502/504 on transport failures,
 *   the upstream's status for other HTTP errors, 502 for an `{"error": …}` body
 */
export function createOllamaEmbed(
  deployment: Deployment,
  timeouts: DeploymentTimeouts,
  transport: OllamaTransport,
): (call: EmbeddingCall) => Promise<EmbeddingResult> {
  return async function embed(call: EmbeddingCall): Promise<EmbeddingResult> {
    const request = toOllamaEmbedRequest(call.body, deployment);
    const signal = withTotalTimeout(call.signal, timeouts.totalMs);
    try {
      const response = await postToOllama(transport, "/api/embed", request, request.model, {
        signal,
        requestId: call.requestId,
      });
      const answer = await readOllamaObject<OllamaEmbedResponse>(transport, response);
      const reported = answer.prompt_eval_count;
      const usage =
        reported !== undefined ? { tokens: reported, estimated: false } : countEmbeddingInputTokens(call.body.input);
      const model = answer.model ?? request.model;
      const list = toEmbeddingList(answer, model, call.body.encoding_format ?? "float", usage.tokens);
      return {
        rawBody: JSON.stringify(list),
        model,
        promptTokens: usage.tokens,
        usageEstimated: usage.estimated,
        dimensions: answer.embeddings[0]?.length ?? null,
      };
    } catch (error) {
      if (isTotalTimeout(signal) && timeouts.totalMs !== null)
        throw totalTimeoutError(transport.client.origin, timeouts.totalMs);
      throw error;
    } finally {
      releaseTotalTimeout(signal);
    }
  };
}
