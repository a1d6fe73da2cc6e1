/**
 * Ollama's native API as an inbound protocol
 * (https://github.com/ollama/ollama/blob/main/docs/api.md): the
 * {@link InboundAdapter}s of `POST /api/chat` and `POST /api/generate` that the
 * exchange runner (`server/routes/inbound-exchange.ts`) drives. Both record as
 * protocol `ollama`. No upstream takes Ollama's API natively through this
 * path (an `ollama` deployment gets the chat translation, which its provider
 * turns back into `/api/chat`), so every attempt is translated.
 * Validation: ollama-request.ts; translation to chat: to-chat.ts; the answer:
 * from-chat.ts; the NDJSON stream: ndjson-stream.ts; errors: error-body.ts.
 */
import type { ChatCompletion } from "../chat-completion.js";
import type { ChatCompletionRequest } from "../chat-request.js";
import type { RelayError } from "../errors.js";
import type { InboundAdapter, InboundAnswerInfo, ParsedInbound, StreamEncoder } from "../inbound.js";
import { ollamaErrorBody } from "./error-body.js";
import { completionToOllama, type OllamaEndpoint } from "./from-chat.js";
import { OllamaNdjsonEncoder } from "./ndjson-stream.js";
import {
  ollamaChatRequestSchema,
  ollamaGenerateRequestSchema,
  validateOllamaBody,
  type OllamaChatRequest,
  type OllamaGenerateRequest,
} from "./ollama-request.js";
import { ollamaChatToChat, ollamaGenerateToChat } from "./to-chat.js";

/** The `content-type` of Ollama's streamed answers. */
export const NDJSON_CONTENT_TYPE = "application/x-ndjson";

/**
 * The adapter of one endpoint.
 * @param translate validates the body and translates it (throws RelayError 400 naming the field)
 */
function ollamaAdapter(
  endpoint: OllamaEndpoint,
  translate: (body: unknown) => { request: Record<string, unknown> & { model: string }; chat: ChatCompletionRequest },
): InboundAdapter {
  return {
    protocol: "ollama",
    streamContentType: NDJSON_CONTENT_TYPE,

    /**
     * Validates the body and translates it to chat. Ollama streams when `stream` is absent.
     * @throws RelayError 400 naming the field
     */
    parse(body: unknown): Promise<ParsedInbound> {
      try {
        const { request, chat } = translate(body);
        return Promise.resolve({ request, model: request.model, stream: chat.stream === true, chat });
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },

    fromCompletion(completion: ChatCompletion, info: InboundAnswerInfo): string {
      return completionToOllama(endpoint, completion, info);
    },

    streamEncoder(info: InboundAnswerInfo): StreamEncoder {
      return new OllamaNdjsonEncoder(endpoint, info);
    },

    errorBody(error: RelayError): Record<string, unknown> {
      return { ...ollamaErrorBody(error) };
    },

    /** Ollama's API has no protocol headers to forward (and no native upstream takes it). */
    forwardedHeaders(): Record<string, string> {
      return {};
    },
  };
}

/** The `/api/chat` adapter (stateless; one instance serves every request). */
export const ollamaChatAdapter: InboundAdapter = ollamaAdapter("chat", (body) => {
  const request: OllamaChatRequest = validateOllamaBody(ollamaChatRequestSchema, body);
  return { request, chat: ollamaChatToChat(request) };
});

/** The `/api/generate` adapter (stateless; one instance serves every request). */
export const ollamaGenerateAdapter: InboundAdapter = ollamaAdapter("generate", (body) => {
  const request: OllamaGenerateRequest = validateOllamaBody(ollamaGenerateRequestSchema, body);
  return { request, chat: ollamaGenerateToChat(request) };
});
