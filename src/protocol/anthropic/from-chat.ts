/**
 * A chat completion (https://platform.openai.com/docs/api-reference/chat/object)
 * → Anthropic's `message` answer of `POST /v1/messages`
 * (https://docs.anthropic.com/en/api/messages): the reverse of
 * `providers/anthropic/response-mapping.ts`.
 *
 * Content blocks in order: `thinking` (the reasoning, `signature` "" as none
 * is known), `text`, one `tool_use` per tool call (arguments parsed to
 * `input`). `stop_reason` from `finish_reason` ({@link stopReasonOf}), usage
 * from the chat usage ({@link anthropicUsage}).
 */
import { reasoningText, type ChatCompletion, type Usage } from "../chat-completion.js";
import type { InboundAnswerInfo } from "../inbound.js";

/** A content block of an answer. */
export type AnswerBlock =
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

/** Anthropic's `usage` of an answer, in tokens (`input_tokens` leaves out the cached prompt tokens). */
export interface AnthropicAnswerUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

/** Anthropic's non-streamed answer. */
export interface AnthropicAnswer {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: AnswerBlock[];
  stop_reason: string;
  stop_sequence: string | null;
  usage: AnthropicAnswerUsage;
}

/** The `msg_…` id of the answer to an exchange. */
export function messageId(info: InboundAnswerInfo): string {
  return `msg_${info.exchangeId}`;
}

/**
 * The answer of a chat completion (its first choice).
 * @param info the exchange's identity; its request's `stop_sequences` tell a matched stop sequence
 */
export function completionToMessage(completion: ChatCompletion, info: InboundAnswerInfo): AnthropicAnswer {
  const choice = completion.choices[0];
  const message = choice?.message;
  const content: AnswerBlock[] = [];
  const reasoning = reasoningText(message);
  if (reasoning !== null) content.push({ type: "thinking", thinking: reasoning, signature: "" });
  if (typeof message?.content === "string" && message.content !== "")
    content.push({ type: "text", text: message.content });
  (message?.tool_calls ?? []).forEach((call, i) => {
    content.push({
      type: "tool_use",
      id: call.id || `toolu_${info.exchangeId}_${i}`,
      name: call.function.name,
      input: toolInput(call.function.arguments),
    });
  });
  const stop = stopReasonOf(choice?.finish_reason ?? null, choice?.stop_reason, info);
  return {
    id: messageId(info),
    type: "message",
    role: "assistant",
    model: info.model,
    content,
    stop_reason: stop.reason,
    stop_sequence: stop.sequence,
    usage: anthropicUsage(completion.usage, info.promptTokensEstimate),
  };
}

/** A tool call's arguments (JSON text) as the `input` object; {} when empty or not a JSON object. */
export function toolInput(text: string | undefined): Record<string, unknown> {
  if (!text || text.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // not JSON: nothing Anthropic's `input` can hold
  }
  return {};
}

/**
 * Anthropic's `stop_reason` (and `stop_sequence`) of a chat `finish_reason`
 * (https://docs.anthropic.com/en/api/handling-stop-reasons): `stop` →
 * `stop_sequence` when the upstream names the stop sequence it matched
 * (`choices[].stop_reason`, as vLLM sends it) and the request listed it,
 * else `end_turn`; `length` → `max_tokens`; `tool_calls`/`function_call` →
 * `tool_use`; `content_filter` → `refusal`; anything else → `end_turn`.
 * @param matched the upstream's `stop_reason` field of the choice, if any
 */
export function stopReasonOf(
  finishReason: string | null,
  matched: unknown,
  info: InboundAnswerInfo,
): { reason: string; sequence: string | null } {
  switch (finishReason) {
    case "length":
      return { reason: "max_tokens", sequence: null };
    case "tool_calls":
    case "function_call":
      return { reason: "tool_use", sequence: null };
    case "content_filter":
      return { reason: "refusal", sequence: null };
    default: {
      const sequences = info.request.stop_sequences;
      if (typeof matched === "string" && Array.isArray(sequences) && sequences.includes(matched))
        return { reason: "stop_sequence", sequence: matched };
      return { reason: "end_turn", sequence: null };
    }
  }
}

/**
 * Anthropic's usage of a chat usage: `input_tokens` is the prompt less the
 * cached parts (cache reads: `prompt_tokens_details.cached_tokens` or
 * `cache_read_input_tokens`; cache writes: `cache_creation_input_tokens`,
 * which the proxy's own Anthropic provider keeps), which are given apart when
 * the usage carries them
 * (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching).
 * @param promptEstimate the prompt's size as estimated, when the upstream gave no usage
 */
export function anthropicUsage(usage: Usage | null | undefined, promptEstimate: number): AnthropicAnswerUsage {
  if (!usage) return { input_tokens: promptEstimate, output_tokens: 0 };
  const details = usage.prompt_tokens_details as { cached_tokens?: unknown } | null | undefined;
  const read = count(usage.cache_read_input_tokens) ?? count(details?.cached_tokens);
  const written = count(usage.cache_creation_input_tokens);
  const prompt = count(usage.prompt_tokens) ?? 0;
  const out: AnthropicAnswerUsage = {
    input_tokens: Math.max(0, prompt - (read ?? 0) - (written ?? 0)),
    output_tokens: count(usage.completion_tokens) ?? 0,
  };
  if (written !== null) out.cache_creation_input_tokens = written;
  if (read !== null) out.cache_read_input_tokens = read;
  if (written !== null && read === null) out.cache_read_input_tokens = 0;
  if (read !== null && written === null) out.cache_creation_input_tokens = 0;
  return out;
}

/** A token count, or null for anything that is not a finite non-negative number. */
function count(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}
