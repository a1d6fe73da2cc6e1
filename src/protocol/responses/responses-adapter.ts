/**
 * OpenAI's Responses API (`POST /v1/responses`,
 * https://platform.openai.com/docs/api-reference/responses) as an
 * {@link InboundAdapter}: the request validated (`responses-request.ts`),
 * its conversation rebuilt from the record when it names a
 * `previous_response_id` (`previous-response.ts`), translated to chat
 * (`to-chat.ts`); the answer as a `response` object (`from-chat.ts`) or
 * its streaming events (`responses-stream.ts`); errors in OpenAI's shape.
 */
import type { ChatCompletion } from "../chat-completion.js";
import type { ChatCompletionRequest } from "../chat-request.js";
import type { RelayError } from "../errors.js";
import type { InboundAdapter, InboundAnswerInfo, InboundContext, ParsedInbound, StreamEncoder } from "../inbound.js";
import { responseFromCompletion } from "./from-chat.js";
import { conversationOf } from "./previous-response.js";
import { parseResponsesRequest } from "./responses-request.js";
import { responsesStreamEncoder } from "./responses-stream.js";
import { toChatRequest } from "./to-chat.js";

/** The request headers of OpenAI's API a native Responses upstream gets from the client. */
export const FORWARDED_HEADERS = ["openai-beta", "openai-organization", "openai-project"] as const;

/** The Responses adapter. */
export const responsesAdapter: InboundAdapter = {
  protocol: "responses",

  async parse(body: unknown, context: InboundContext): Promise<ParsedInbound> {
    const request = parseResponsesRequest(body);
    const previous = request.previous_response_id;
    const history = typeof previous === "string" && previous !== "" ? await conversationOf(previous, context) : [];
    // What chat cannot say is left out of `chat`; only an attempt that must translate refuses it (a native one passes it on).
    let untranslatable: RelayError | undefined;
    let chat: ChatCompletionRequest;
    try {
      chat = toChatRequest(request, history, (error) => {
        untranslatable ??= error;
      });
    } catch (error) {
      // Nothing left to send once the untranslatable parts are out: that part is the reason to give.
      throw untranslatable ?? error;
    }
    return {
      request,
      model: request.model,
      stream: request.stream === true,
      chat,
      ...(untranslatable ? { untranslatable } : {}),
    };
  },

  fromCompletion(completion: ChatCompletion, info: InboundAnswerInfo): string {
    return JSON.stringify(responseFromCompletion(completion, info));
  },

  streamEncoder(info: InboundAnswerInfo): StreamEncoder {
    return responsesStreamEncoder(info);
  },

  errorBody(error: RelayError): Record<string, unknown> {
    return error.toBody() as unknown as Record<string, unknown>;
  },

  forwardedHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of FORWARDED_HEADERS) {
      const value = headers[name];
      if (typeof value === "string") out[name] = value;
      else if (Array.isArray(value)) out[name] = value.join(", ");
    }
    return out;
  },
};
