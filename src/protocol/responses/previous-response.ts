/**
 * OpenAI Responses' `previous_response_id`
 * (https://platform.openai.com/docs/api-reference/responses/create#responses-create-previous_response_id),
 * served from the record: the conversation before a request is rebuilt
 * from the recorded exchanges it continues, oldest first, each one's input
 * translated to chat messages (as `to-chat.ts` translated it then) followed
 * by its recorded answer (the assembled chat completion's assistant
 * message, tool calls included). A recorded Responses request that itself
 * names a `previous_response_id` is followed, up to {@link MAX_CHAIN}
 * steps. A recorded Chat Completions exchange can be continued too (its
 * `messages` are the whole conversation); an Anthropic Messages one cannot
 * (400). As OpenAI's API does, the earlier requests' `instructions` are
 * not carried over.
 */
import { chatMessageSchema, type ChatMessage } from "../chat-request.js";
import { errors } from "../error-codes.js";
import { invalidRequest, RelayError } from "../errors.js";
import type { InboundContext, RecordedExchangeLookup } from "../inbound.js";
import { parseResponsesRequest } from "./responses-request.js";
import { inputToMessages } from "./to-chat.js";

/** The longest chain of `previous_response_id`s followed. */
export const MAX_CHAIN = 1000;

const PARAM = "previous_response_id";

/**
 * The exchange id a client's response id names (`resp_<ulid>` or the bare
 * ULID, any case), or null when it cannot be one.
 */
export function exchangeIdOf(responseId: string): string | null {
  const bare = responseId.startsWith("resp_") ? responseId.slice("resp_".length) : responseId;
  return /^[0-9a-hjkmnp-tv-z]{26}$/i.test(bare) ? bare.toLowerCase() : null;
}

/** 404 `not_found` for a response id the caller has no record of, in OpenAI's shape. */
export function responseNotFound(responseId: string, param: string | null = PARAM): RelayError {
  return errors.notFound(`Response with id '${responseId}' not found.`, { param });
}

/**
 * The chat messages of the conversation `responseId` ends.
 * @throws RelayError 404 `not_found` (param `previous_response_id`) when it or an exchange it continues is not recorded for the caller; 400 when the chain is longer than {@link MAX_CHAIN}, or an exchange of it cannot be continued
 */
export async function conversationOf(responseId: string, context: InboundContext): Promise<ChatMessage[]> {
  const chain: RecordedExchangeLookup[] = [];
  let next: string | null = responseId;
  while (next !== null) {
    if (chain.length >= MAX_CHAIN) {
      throw invalidRequest(
        `The chain of previous_response_id is longer than ${MAX_CHAIN} responses.`,
        PARAM,
        "invalid_value",
      );
    }
    const id = exchangeIdOf(next);
    const found = id === null ? null : await context.lookupExchange(id);
    if (!found) throw responseNotFound(next);
    chain.push(found);
    next = found.protocol === "responses" ? previousOf(found.request) : null;
  }
  const messages: ChatMessage[] = [];
  for (const exchange of chain.reverse()) {
    messages.push(...requestMessages(exchange));
    const answer = answerMessage(exchange.response);
    if (answer) messages.push(answer);
  }
  return messages;
}

/** How an error names a recorded exchange's protocol. */
const PROTOCOL_NAMES = {
  messages: "an Anthropic Messages",
  ollama: "an Ollama API",
  gemini: "a Gemini API",
  completions: "a legacy completions",
} as const;

function previousOf(request: Record<string, unknown>): string | null {
  const previous = request.previous_response_id;
  return typeof previous === "string" && previous !== "" ? previous : null;
}

/** The chat messages of a recorded request (without the answer). */
function requestMessages(exchange: RecordedExchangeLookup): ChatMessage[] {
  const id = `resp_${exchange.id}`;
  if (exchange.request.llm_relay_reduced !== undefined) {
    throw invalidRequest(
      `Response '${id}' was recorded in reduced form and cannot be continued.`,
      PARAM,
      "invalid_value",
    );
  }
  switch (exchange.protocol) {
    case "responses":
      try {
        // As the record translated it: what chat cannot say (a native upstream took it) is left out.
        return inputToMessages(parseResponsesRequest(exchange.request).input, () => undefined);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        throw invalidRequest(
          `Response '${id}' cannot be continued: its recorded request ${why}`,
          PARAM,
          "invalid_value",
        );
      }
    case "chat": {
      const parsed = chatMessageSchema.array().safeParse(exchange.request.messages);
      if (!parsed.success) {
        throw invalidRequest(
          `Response '${id}' cannot be continued: its recorded messages are not valid.`,
          PARAM,
          "invalid_value",
        );
      }
      return parsed.data;
    }
    case "messages":
    case "ollama":
    case "gemini":
    case "completions":
      throw invalidRequest(
        `Response '${id}' is ${PROTOCOL_NAMES[exchange.protocol]} exchange; llm-relay continues only Responses and Chat Completions exchanges with previous_response_id.`,
        PARAM,
        "invalid_value",
      );
  }
}

/** The assistant message of a recorded answer (the assembled chat completion), or null when it has none. */
function answerMessage(response: Record<string, unknown> | null): ChatMessage | null {
  const choices = response?.choices;
  if (!Array.isArray(choices)) return null;
  const message: unknown = (choices[0] as { message?: unknown } | undefined)?.message;
  if (typeof message !== "object" || message === null) return null;
  const { content, tool_calls: toolCalls } = message as { content?: unknown; tool_calls?: unknown };
  const calls = Array.isArray(toolCalls) ? toolCalls : [];
  const text = typeof content === "string" ? content : null;
  if ((text === null || text === "") && calls.length === 0) return null;
  const parsed = chatMessageSchema.safeParse({
    role: "assistant",
    content: text,
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
  });
  return parsed.success ? parsed.data : null;
}
