/**
 * Sending a request to Ollama's `/api/chat` or `/api/generate` and reading
 * the answer: one JSON object when `stream` is false, NDJSON lines
 * (`application/x-ndjson`, docs/api/streaming.mdx) when it is true.
 */
import type { ProviderContext } from "../types.js";
import type { UpstreamClient, UpstreamResponse } from "../http/upstream-client.js";
import { redactSecrets } from "../../recording/redact.js";
import { ndjsonLines } from "../../protocol/ndjson.js";
import { isModelNotFound, ollamaModelNotFound, parseOllamaObject } from "./ollama-errors.js";
import type { OllamaModelInfo } from "./ollama-model-info.js";

/** What sending needs besides the body. */
export interface OllamaTransport {
  client: UpstreamClient;
  info: OllamaModelInfo;
  context: ProviderContext;
}

/**
 * POSTs `body` to `path`.
 * @param model the upstream model, for the model-not-found message
 * @throws RelayError 404 `model_not_found` (naming the pulled models) when Ollama has no such model;
 *   502/504 on transport failures; the upstream status for other HTTP errors
 */
export async function postToOllama(
  transport: OllamaTransport,
  path: "/api/chat" | "/api/generate" | "/api/embed",
  body: Record<string, unknown>,
  model: string,
  options: { signal: AbortSignal; requestId: string },
): Promise<UpstreamResponse> {
  const { client, info, context } = transport;
  if (context.debug)
    context.logger.debug(
      { provider: "ollama", target: client.origin, path, body: redactSecrets(body) },
      "raw backend request",
    );
  try {
    return await client.postJson(path, body, {
      signal: options.signal,
      headers: { "x-request-id": options.requestId },
      accept: body.stream ? "application/x-ndjson" : "application/json",
    });
  } catch (error) {
    if (isModelNotFound(error))
      throw ollamaModelNotFound(model, client.origin, await info.pulledModels(options.signal), error);
    throw error;
  }
}

/**
 * Reads a non-streaming answer.
 * @param accept optional: whether the object has what the caller reads
 * @throws RelayError for an `{"error": …}` body, invalid JSON, a body that is not an accepted object (502 `upstream_invalid_response`), or a broken connection
 */
export async function readOllamaObject<T>(
  transport: OllamaTransport,
  response: UpstreamResponse,
  accept?: (object: Record<string, unknown>) => boolean,
): Promise<T> {
  let text: string;
  try {
    text = await response.body.text();
  } catch (error) {
    throw transport.client.mapError(error);
  }
  if (transport.context.debug)
    transport.context.logger.debug(
      { provider: "ollama", target: transport.client.origin, payload: text },
      "raw backend answer",
    );
  return parseOllamaObject<T>(text, transport.client.origin, accept);
}

/**
 * Yields each object of a streamed answer as its line arrives.
 * @throws RelayError for an `{"error": …}` line, a line that is not JSON, a reset or an idle timeout
 */
export async function* ollamaObjects<T>(transport: OllamaTransport, response: UpstreamResponse): AsyncGenerator<T> {
  const { client, context } = transport;
  const lines = ndjsonLines(response.body)[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await lines.next();
      } catch (error) {
        throw client.mapError(error);
      }
      if (next.done) return;
      if (context.debug)
        context.logger.debug({ provider: "ollama", target: client.origin, payload: next.value }, "raw backend line");
      yield parseOllamaObject<T>(next.value, client.origin);
    }
  } finally {
    if (!response.body.destroyed) response.body.destroy();
  }
}
