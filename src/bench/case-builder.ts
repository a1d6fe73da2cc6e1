/**
 * Rebuilds a replayable {@link BenchCase} from a recorded `responses` row:
 * the full message list originally sent (`prompt_json` is the request body
 * as the client sent it, secrets removed) and the request fields a replay
 * keeps (temperature, max_tokens, top_p, stop, and standard fields such as
 * `seed`, `tools` or `response_format`).
 */
import { contentText } from "../protocol/chat-request.js";
import { parseMessagesRequest } from "../protocol/anthropic/messages-request.js";
import { messagesToChat } from "../protocol/anthropic/to-chat.js";
import { parseResponsesRequest } from "../protocol/responses/responses-request.js";
import { toChatRequest } from "../protocol/responses/to-chat.js";
import {
  ollamaChatRequestSchema,
  ollamaGenerateRequestSchema,
  validateOllamaBody,
} from "../protocol/ollama/ollama-request.js";
import { ollamaChatToChat, ollamaGenerateToChat } from "../protocol/ollama/to-chat.js";
import { parseGenerateContentRequest } from "../protocol/gemini/gemini-request.js";
import { generateContentToChat } from "../protocol/gemini/to-chat.js";
import { parseCompletionsRequest, promptsOf } from "../protocol/completions/completions-request.js";
import { completionsToChat } from "../protocol/completions/to-chat.js";
import { validateMessages } from "../library/request-options.js";
import type { ChatMessage } from "../library/types.js";
import { countPromptTokens, countTextTokens } from "../tokens/count.js";
import type { BenchCase } from "./types.js";

/** Standard Chat Completions fields replayed as originally sent (besides messages, temperature, max_tokens, top_p, stop). */
export const REPLAYED_FIELDS: readonly string[] = [
  "seed",
  "presence_penalty",
  "frequency_penalty",
  "response_format",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
];

/** The columns of a recorded response a case is built from. */
export interface RecordedRow {
  id: string;
  model: string | null;
  prompt_json: string | null;
  response: string | null;
  conversation_id: string | null;
  datetime_utc: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  /** The inbound protocol (`llm_relay_exchanges.protocol`): `chat` (or null: a row llm or an older llm-relay wrote), `messages`, `responses`. */
  protocol?: string | null;
}

/** Thrown when a recorded response cannot be replayed; the message says why. */
export class UnreplayableCase extends Error {}

/**
 * The case of `row`.
 * @throws UnreplayableCase when `prompt_json` is not a request body with messages, or its messages cannot be sent
 *   (a `function` role, an invalid shape)
 */
export function buildCase(row: RecordedRow): BenchCase {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(row.prompt_json ?? "null") as Record<string, unknown>;
  } catch {
    throw new UnreplayableCase("prompt_json is not JSON");
  }
  if (row.protocol && row.protocol !== "chat") body = asChatRequest(row.protocol, body);
  if (!body || typeof body !== "object" || !Array.isArray(body.messages) || body.messages.length === 0) {
    throw new UnreplayableCase("prompt_json has no messages");
  }
  const raw = (body.messages as unknown[]).map((message) =>
    message && typeof message === "object" && (message as { role?: unknown }).role === "developer"
      ? { ...message, role: "system" }
      : message,
  );
  let messages: ChatMessage[];
  try {
    messages = validateMessages(raw) as ChatMessage[];
  } catch (error) {
    throw new UnreplayableCase((error as Error).message);
  }
  const extra: Record<string, unknown> = {};
  for (const field of REPLAYED_FIELDS)
    if (body[field] !== undefined && body[field] !== null) extra[field] = body[field];
  const maxTokens = positiveInt(body.max_tokens) ?? positiveInt(body.max_completion_tokens);
  return {
    id: row.id,
    model: row.model ?? "",
    conversationId: row.conversation_id,
    datetimeUtc: row.datetime_utc ?? "",
    messages,
    prompt: trailingPrompt(messages),
    reference: row.response ?? "",
    temperature: typeof body.temperature === "number" ? body.temperature : null,
    maxTokens,
    topP: typeof body.top_p === "number" ? body.top_p : null,
    stop:
      typeof body.stop === "string" || (Array.isArray(body.stop) && body.stop.every((s) => typeof s === "string"))
        ? body.stop
        : null,
    extra,
    inputTokens: row.input_tokens && row.input_tokens > 0 ? row.input_tokens : countPromptTokens(messages),
    outputTokens: row.output_tokens && row.output_tokens > 0 ? row.output_tokens : countTextTokens(row.response ?? ""),
  };
}

/**
 * The chat request of a body recorded in another inbound protocol, as the proxy translated it when it came in:
 * Anthropic Messages through `messagesToChat`; OpenAI Responses through `toChatRequest`, leaving out what chat
 * cannot carry (hosted tools); Ollama's `/api/chat` (a body with `messages`) or `/api/generate` (a `prompt`);
 * Gemini's `generateContent` (its `prompt_json` names the URL's model as `model`); legacy completions (the prompt
 * as one user message).
 * @throws UnreplayableCase when the body is not valid in its protocol, continues an earlier response
 *   (`previous_response_id`), or its protocol is unknown
 */
function asChatRequest(protocol: string, body: unknown): Record<string, unknown> {
  try {
    switch (protocol) {
      case "messages":
        return messagesToChat(parseMessagesRequest(body));
      case "responses": {
        const request = parseResponsesRequest(body);
        if (typeof request.previous_response_id === "string")
          throw new UnreplayableCase(
            "it continues an earlier response (previous_response_id); replay the whole chain instead",
          );
        return toChatRequest(request, [], () => undefined);
      }
      case "ollama":
        return Array.isArray((body as { messages?: unknown } | null)?.messages)
          ? ollamaChatToChat(validateOllamaBody(ollamaChatRequestSchema, body))
          : ollamaGenerateToChat(validateOllamaBody(ollamaGenerateRequestSchema, body));
      case "gemini": {
        const model = (body as { model?: unknown } | null)?.model;
        return generateContentToChat(parseGenerateContentRequest(body), typeof model === "string" ? model : "", false);
      }
      case "completions": {
        const request = parseCompletionsRequest(body);
        const prompts = promptsOf(request);
        if (prompts.length !== 1) throw new UnreplayableCase(`it holds ${prompts.length} prompts, not one`);
        return completionsToChat(request, prompts[0]!);
      }
      default:
        throw new UnreplayableCase(`its protocol '${protocol}' is not one llm-relay serves`);
    }
  } catch (error) {
    if (error instanceof UnreplayableCase) throw error;
    throw new UnreplayableCase(`prompt_json is not a valid ${protocol} request: ${(error as Error).message}`);
  }
}

/** The text of the trailing user messages (what the request asked), joined with a newline. */
export function trailingPrompt(messages: readonly ChatMessage[]): string {
  let start = messages.length;
  while (start > 0 && (messages[start - 1]!.role === "user" || messages[start - 1]!.role === "tool")) start--;
  const trailing = messages.slice(start);
  const users = trailing.filter((m) => m.role === "user");
  return (users.length > 0 ? users : trailing).map((m) => contentText(m.content)).join("\n");
}

function positiveInt(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : null;
}
