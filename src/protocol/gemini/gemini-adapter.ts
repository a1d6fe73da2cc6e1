/**
 * The Gemini API (`models.generateContent`, `models.streamGenerateContent`,
 * https://ai.google.dev/api/generate-content) as an {@link InboundAdapter}.
 * The model, whether to stream and the stream's framing are in the URL, not
 * the body, so the route makes one adapter per request ({@link geminiAdapter}).
 * Validation: gemini-request.ts; translation to chat: to-chat.ts; the answer:
 * from-chat.ts; the stream: gemini-stream.ts; errors: error-body.ts.
 *
 * The record's `prompt_json` is the body as received with the URL's model
 * added first as `model` (`{"model": "gemini-2.5-flash", "contents": …}`), so a
 * record says which model was asked for, as every other protocol's does.
 * No upstream takes Gemini requests natively: every attempt is translated.
 */
import type { ChatCompletion } from "../chat-completion.js";
import type { RelayError } from "../errors.js";
import type { InboundAdapter, InboundAnswerInfo, ParsedInbound, StreamEncoder } from "../inbound.js";
import { geminiErrorBody } from "./error-body.js";
import { completionToGenerateContent } from "./from-chat.js";
import { parseGenerateContentRequest } from "./gemini-request.js";
import { GeminiStreamEncoder, type StreamFraming } from "./gemini-stream.js";
import { generateContentToChat } from "./to-chat.js";

/** What the URL of one request says. */
export interface GeminiCall {
  /** The model named in the path (without `models/`). */
  model: string;
  /** `streamGenerateContent` (true) or `generateContent`. */
  stream: boolean;
  /** A stream's framing: `sse` with `?alt=sse`, else `json-array`. */
  framing: StreamFraming;
}

/** The adapter of one Gemini request. */
export function geminiAdapter(call: GeminiCall): InboundAdapter {
  return {
    protocol: "gemini",
    streamContentType: call.framing === "sse" ? "text/event-stream; charset=utf-8" : "application/json; charset=utf-8",

    /**
     * Validates the body and translates it to chat.
     * @throws RelayError 400 naming the field (Google's `INVALID_ARGUMENT`)
     */
    parse(body: unknown): Promise<ParsedInbound> {
      try {
        const parsed = parseGenerateContentRequest(body);
        const chat = generateContentToChat(parsed, call.model, call.stream);
        // The URL's model first; it wins over a `model` field in the body (as the URL's does at Google).
        const request: Record<string, unknown> = { model: call.model, ...parsed };
        request.model = call.model;
        return Promise.resolve({
          request,
          model: call.model,
          stream: call.stream,
          chat,
        });
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },

    fromCompletion(completion: ChatCompletion, info: InboundAnswerInfo): string {
      return JSON.stringify(completionToGenerateContent(completion, info));
    },

    streamEncoder(info: InboundAnswerInfo): StreamEncoder {
      return new GeminiStreamEncoder(info, call.framing);
    },

    errorBody(error: RelayError): Record<string, unknown> {
      return { ...geminiErrorBody(error) };
    },

    forwardedHeaders(): Record<string, string> {
      return {};
    },
  };
}
