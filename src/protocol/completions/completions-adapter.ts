/**
 * OpenAI's legacy completions (`POST /v1/completions`, https://platform.openai.com/docs/api-reference/completions)
 * as an {@link InboundAdapter}: the request validated (`completions-request.ts`) and translated to chat as one user
 * message (`to-chat.ts`), with the prompt itself for raw-completion backends (`ParsedInbound.rawPrompt`: no prompt
 * format, the `suffix` to a backend with fill-in-the-middle); the answer as a `text_completion` (`from-chat.ts`) or
 * its stream (`completions-stream.ts`); errors in OpenAI's shape. No upstream takes this protocol natively.
 */
import type { ChatCompletion } from "../chat-completion.js";
import type { RelayError } from "../errors.js";
import type { InboundAdapter, InboundAnswerInfo, ParsedInbound, StreamEncoder } from "../inbound.js";
import { parseCompletionsRequest, promptsOf } from "./completions-request.js";
import { CompletionsStreamEncoder } from "./completions-stream.js";
import { completionToText } from "./from-chat.js";
import { completionsToChat, rawPromptOf } from "./to-chat.js";

/** The legacy completions adapter (stateless; one instance serves every request). */
export const completionsAdapter: InboundAdapter = {
  protocol: "completions",

  /**
   * Validates a `/v1/completions` body of one prompt (a string, or an array of one string) and translates it.
   * @throws RelayError 400 `invalid_request_error` naming the field
   */
  parse(body: unknown): Promise<ParsedInbound> {
    try {
      const request = parseCompletionsRequest(body);
      const prompt = promptsOf(request)[0] ?? "";
      return Promise.resolve({
        request,
        model: request.model,
        stream: request.stream === true,
        chat: completionsToChat(request, prompt),
        rawPrompt: rawPromptOf(request, prompt),
      });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  },

  fromCompletion(completion: ChatCompletion, info: InboundAnswerInfo): string {
    return JSON.stringify(completionToText(completion, info));
  },

  streamEncoder(info: InboundAnswerInfo): StreamEncoder {
    return new CompletionsStreamEncoder(info);
  },

  errorBody(error: RelayError): Record<string, unknown> {
    return error.toBody() as unknown as Record<string, unknown>;
  },

  /** No upstream takes legacy completions natively, so no header is forwarded. */
  forwardedHeaders(): Record<string, string> {
    return {};
  },
};
