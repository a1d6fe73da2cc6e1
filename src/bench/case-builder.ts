/**
 * Rebuilds a replayable {@link BenchCase} from a recorded `responses` row:
 * the full message list originally sent (`prompt_json` is the request body
 * as the client sent it, secrets removed) and the request fields a replay
 * keeps (temperature, max_tokens, top_p, stop, and standard fields such as
 * `seed`, `tools` or `response_format`).
 */
import { contentText } from "../protocol/chat-request.js";
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
