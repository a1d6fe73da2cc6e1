/**
 * Ollama's error body (https://github.com/ollama/ollama/blob/main/docs/api.md#errors):
 * `{"error": "<message>"}`, the message a string. The `ollama` npm client prints
 * `ResponseError: <message>` from it (an object there prints `[object Object]`).
 */
import type { RelayError } from "../errors.js";

/** `{"error": message}` for `error`, sent with `error.status`. */
export function ollamaErrorBody(error: RelayError): { error: string } {
  return { error: error.message };
}
