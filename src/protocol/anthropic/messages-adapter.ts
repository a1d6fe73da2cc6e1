/**
 * Anthropic's Messages API as an inbound protocol (`POST /v1/messages`,
 * https://docs.anthropic.com/en/api/messages): the {@link InboundAdapter}
 * the exchange runner (`server/routes/inbound-exchange.ts`) drives.
 * Validation: messages-request.ts; translation to chat: to-chat.ts; the
 * answer: from-chat.ts; the stream: messages-stream.ts; errors:
 * error-body.ts.
 */
import type { ChatCompletion } from "../chat-completion.js";
import type { RelayError } from "../errors.js";
import type { InboundAdapter, InboundAnswerInfo, ParsedInbound, StreamEncoder } from "../inbound.js";
import { anthropicErrorBody } from "./error-body.js";
import { completionToMessage } from "./from-chat.js";
import { parseMessagesRequest } from "./messages-request.js";
import { MessagesStreamEncoder } from "./messages-stream.js";
import { messagesToChat } from "./to-chat.js";

/** The request headers of the Messages API a native upstream gets (https://docs.anthropic.com/en/api/versioning, https://docs.anthropic.com/en/api/beta-headers). */
export const ANTHROPIC_FORWARDED_HEADERS = ["anthropic-version", "anthropic-beta"] as const;

/** The Messages adapter (stateless; one instance serves every request). */
export const messagesAdapter: InboundAdapter = {
  protocol: "messages",

  /**
   * Validates a `/v1/messages` body and translates it to chat.
   * @throws RelayError 400 `invalid_request_error` naming the field
   */
  parse(body: unknown): Promise<ParsedInbound> {
    try {
      const request = parseMessagesRequest(body);
      return Promise.resolve({
        request,
        model: request.model,
        stream: request.stream === true,
        chat: messagesToChat(request),
      });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  },

  fromCompletion(completion: ChatCompletion, info: InboundAnswerInfo): string {
    return JSON.stringify(completionToMessage(completion, info));
  },

  streamEncoder(info: InboundAnswerInfo): StreamEncoder {
    return new MessagesStreamEncoder(info);
  },

  errorBody(error: RelayError): Record<string, unknown> {
    return { ...anthropicErrorBody(error) };
  },

  forwardedHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of ANTHROPIC_FORWARDED_HEADERS) {
      const value = headers[name];
      if (typeof value === "string") out[name] = value;
      else if (Array.isArray(value) && value.length > 0) out[name] = value.join(",");
    }
    return out;
  },
};
