/**
 * Ollama's errors as OpenAI errors. Ollama answers an error with its HTTP
 * status and `{"error": "…"}`; a model that is not pulled gets 404
 * `{"error":"model 'x' not found"}` (server/routes.go); an error after a
 * stream began is one more NDJSON line `{"error": "…"}` under status 200
 * (docs/api/errors.mdx, "Errors that occur while streaming").
 */
import { errors } from "../../protocol/error-codes.js";
import { RelayError, upstreamInvalidResponse } from "../../protocol/errors.js";

/** Ollama's message for a model it does not have. */
const MODEL_NOT_FOUND = /^model ['"]?.+?['"]? not found/i;

/**
 * Parses one NDJSON line (or a whole non-streaming body).
 * @param accept optional: whether the object has what the caller reads (e.g. a chat answer's `message` object)
 * @throws RelayError 502 `upstream_error` for an `{"error": …}` object, 502 `upstream_invalid_response` (the text kept for the record) for text that is not JSON, not an object, or not accepted
 */
export function parseOllamaObject<T>(
  text: string,
  origin: string,
  accept?: (object: Record<string, unknown>) => boolean,
): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw upstreamInvalidResponse(`The Ollama server ${origin} sent invalid JSON`, text);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw upstreamInvalidResponse(`The Ollama server ${origin} sent an unexpected answer`, text);
  const error = (parsed as { error?: unknown }).error;
  if (error !== undefined && error !== null) {
    throw errors.upstreamError(
      `The Ollama server ${origin} failed: ${typeof error === "string" ? error : JSON.stringify(error)}`,
      { errorClass: "upstream_http" },
    );
  }
  if (accept && !accept(parsed as Record<string, unknown>))
    throw upstreamInvalidResponse(`The Ollama server ${origin} sent an unexpected answer`, text);
  return parsed as T;
}

/** Whether `error` is Ollama's 404 for a model it does not have. */
export function isModelNotFound(error: unknown): error is RelayError {
  return (
    error instanceof RelayError &&
    error.status === 404 &&
    error.errorClass === "upstream_http" &&
    MODEL_NOT_FOUND.test(error.message)
  );
}

/**
 * The OpenAI 404 `model_not_found` for a model the Ollama server has not pulled.
 * @param model the upstream model name
 * @param origin the Ollama server
 * @param pulled the models the server has (`GET /api/tags`), or null when unknown
 */
export function ollamaModelNotFound(
  model: string,
  origin: string,
  pulled: string[] | null,
  cause: unknown,
): RelayError {
  const available =
    pulled === null ? "" : pulled.length === 0 ? " It has no models." : ` It has: ${pulled.join(", ")}.`;
  return errors.modelNotFound(
    `The model '${model}' is not on the Ollama server ${origin} (pull it with \`ollama pull ${model}\`).${available}`,
    { cause },
  );
}
