/**
 * Assembles a streamed answer from its `chat.completion.chunk`s: the
 * text, reasoning (`reasoning_content` or `reasoning` deltas, see
 * {@link reasoningText}), tool calls, `finish_reason`, usage and model of
 * choice 0, and the equivalent `chat.completion` for the record (the
 * reasoning as the message's `reasoning_content`). Works on partial
 * streams too (cancelled or truncated exchanges record what arrived).
 */
import { reasoningText, type ChatCompletion, type ChatCompletionChunk, type Usage } from "./chat-completion.js";
import type { RecordedToolCall } from "../recording/types.js";

/** Collects what the record needs from each chunk. */
export class StreamAccumulator {
  private readonly textParts: string[] = [];
  private readonly reasoningParts: string[] = [];
  private readonly toolCalls: RecordedToolCall[] = [];
  id: string | null = null;
  created: number | null = null;
  model: string | null = null;
  finishReason: string | null = null;
  usage: Usage | null = null;
  /** Whether any content or tool-call delta has arrived (for TTFT). */
  hasOutput = false;

  /**
   * Takes one chunk into account.
   * @returns true when this chunk carried the first output (content or tool call)
   */
  add(chunk: ChatCompletionChunk): boolean {
    this.id ??= typeof chunk.id === "string" ? chunk.id : null;
    this.created ??= typeof chunk.created === "number" ? chunk.created : null;
    if (typeof chunk.model === "string" && chunk.model) this.model = chunk.model;
    if (chunk.usage && typeof chunk.usage.prompt_tokens === "number") this.usage = chunk.usage;
    const before = this.hasOutput;
    for (const choice of chunk.choices ?? []) {
      if ((choice.index ?? 0) !== 0) continue;
      const delta = choice.delta ?? {};
      const reasoning = reasoningText(delta);
      if (reasoning !== null) this.addReasoning(reasoning);
      if (typeof delta.content === "string") this.addContent(delta.content);
      for (const call of delta.tool_calls ?? []) {
        const index = call.index ?? this.toolCalls.length;
        const target = (this.toolCalls[index] ??= { id: "", name: "", arguments: "" });
        if (call.id) target.id = call.id;
        if (call.function?.name) target.name += call.function.name;
        if (call.function?.arguments) target.arguments += call.function.arguments;
        this.hasOutput = true;
      }
      // KoboldCpp sends the string "null" until the last event.
      if (choice.finish_reason && choice.finish_reason !== "null") this.finishReason = choice.finish_reason;
    }
    return !before && this.hasOutput;
  }

  /**
   * Takes into account a chunk known to carry only `content` for choice 0
   * (see `ContentChunkDecoder`), without the chunk itself.
   * @returns true when this was the first output
   */
  addContent(content: string): boolean {
    if (content.length === 0) return false;
    this.textParts.push(content);
    const first = !this.hasOutput;
    this.hasOutput = true;
    return first;
  }

  /**
   * Takes into account a chunk known to carry only reasoning text for
   * choice 0 (see `ContentChunkDecoder`), without the chunk itself.
   */
  addReasoning(text: string): void {
    if (text.length > 0) this.reasoningParts.push(text);
  }

  /** The assistant text so far. */
  get text(): string {
    return this.textParts.join("");
  }

  /** The reasoning text so far, or null when no reasoning delta arrived. */
  get reasoning(): string | null {
    return this.reasoningParts.length > 0 ? this.reasoningParts.join("") : null;
  }

  /** The tool calls so far (dense, in index order). */
  get calls(): RecordedToolCall[] {
    return this.toolCalls.filter(Boolean);
  }

  /** The `chat.completion` equivalent to what has streamed so far. */
  toCompletion(): ChatCompletion {
    const calls = this.calls;
    const reasoning = this.reasoning;
    return {
      id: this.id ?? "",
      object: "chat.completion",
      created: this.created ?? 0,
      model: this.model ?? "",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: this.text || (calls.length ? null : ""),
            ...(reasoning !== null ? { reasoning_content: reasoning } : {}),
            ...(calls.length
              ? {
                  tool_calls: calls.map((c) => ({
                    id: c.id,
                    type: "function" as const,
                    function: { name: c.name, arguments: c.arguments },
                  })),
                }
              : {}),
          },
          finish_reason: this.finishReason,
        },
      ],
      ...(this.usage ? { usage: this.usage } : {}),
    };
  }
}

/** Text, reasoning (null when none), tool calls and finish reason of choice 0 of a non-streaming completion. */
export function completionOutput(completion: ChatCompletion): {
  text: string;
  reasoning: string | null;
  toolCalls: RecordedToolCall[];
  finishReason: string | null;
} {
  const choice = completion.choices?.find((c) => (c.index ?? 0) === 0) ?? completion.choices?.[0];
  const message = choice?.message;
  const content = message?.content;
  return {
    text: typeof content === "string" ? content : "",
    reasoning: reasoningText(message),
    toolCalls: (message?.tool_calls ?? []).map((c) => ({
      id: c.id ?? "",
      name: c.function?.name ?? "",
      arguments: c.function?.arguments ?? "",
    })),
    finishReason: choice?.finish_reason ?? null,
  };
}
