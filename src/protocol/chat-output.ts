/**
 * Builds OpenAI `chat.completion` and `chat.completion.chunk` objects
 * (https://platform.openai.com/docs/api-reference/chat/object,
 * .../chat/streaming) from a backend's raw text output, for the providers
 * whose backend does not speak the Chat Completions API itself (Ollama's
 * native API, llama.cpp `/completion`, KoboldCpp, text-generation-webui,
 * in-process GGUF, Anthropic). A model's reasoning goes in
 * `reasoning_content` (on the message, and as its own deltas), the field
 * llama-server, DeepSeek and vLLM use and OpenAI-compatible clients read.
 */
import {
  unixSeconds,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ToolCallDelta,
  type Usage,
} from "./chat-completion.js";
import type { ProviderCompletion, ProviderStreamEvent } from "../providers/types.js";

/** Token counts of one answer, and whether the proxy estimated them. */
export interface OutputUsage {
  /** Prompt tokens. */
  promptTokens: number;
  /** Completion tokens. */
  completionTokens: number;
  /** True when counted by the proxy (gpt-tokenizer), not by the backend or its tokenizer. */
  estimated: boolean;
  /** Extra fields kept in `usage` (e.g. cache counts). */
  extra?: Record<string, unknown>;
}

/** An OpenAI `usage` object. */
export function toUsage(usage: OutputUsage): Usage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    ...usage.extra,
  };
}

/**
 * One answer's chunks and completion, sharing id, model and `created`.
 * A stream is: `role()`, then `text()`/`toolCall()` deltas, `finish()`, and
 * `usage()` when the client asked for `stream_options.include_usage`.
 */
export class ChatOutput {
  readonly created = unixSeconds();

  /**
   * @param id the completion id (`chatcmpl-…`)
   * @param model the model name to report (the upstream model)
   */
  constructor(
    readonly id: string,
    readonly model: string,
  ) {}

  /** The first chunk: `delta: {role: "assistant", content: ""}`. */
  role(): ProviderStreamEvent {
    return this.event({ role: "assistant", content: "" }, null);
  }

  /** A content delta. */
  text(content: string): ProviderStreamEvent {
    return this.event({ content }, null);
  }

  /** A reasoning delta: `delta: {reasoning_content}`. */
  reasoning(text: string): ProviderStreamEvent {
    return this.event({ reasoning_content: text }, null);
  }

  /** A tool-call delta (`index` names the call; the first delta of a call carries `id`, `type` and `function.name`). */
  toolCall(delta: ToolCallDelta): ProviderStreamEvent {
    return this.event({ tool_calls: [delta] }, null);
  }

  /** The chunk carrying `finish_reason` (`stop`, `length`, `tool_calls`, `content_filter`), with an empty delta. */
  finish(finishReason: string): ProviderStreamEvent {
    return this.event({}, finishReason);
  }

  /** The usage-only chunk (`choices: []`), sent last. */
  usage(usage: OutputUsage): ProviderStreamEvent {
    const chunk: ChatCompletionChunk = {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
      choices: [],
      usage: toUsage(usage),
    };
    return { data: JSON.stringify(chunk), chunk, usageEstimated: usage.estimated };
  }

  /**
   * A whole non-streaming answer.
   * @param message the assistant's text (null with tool calls only), its reasoning (left out when empty or absent) and tool calls
   */
  completion(
    message: {
      content: string | null;
      reasoning?: string | null;
      toolCalls?: ChatCompletion["choices"][number]["message"]["tool_calls"];
    },
    finishReason: string,
    usage: OutputUsage | null,
  ): ProviderCompletion {
    const completion: ChatCompletion = {
      id: this.id,
      object: "chat.completion",
      created: this.created,
      model: this.model,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: message.content,
            ...(message.reasoning ? { reasoning_content: message.reasoning } : {}),
            ...(message.toolCalls?.length ? { tool_calls: message.toolCalls } : {}),
          },
          finish_reason: finishReason,
        },
      ],
      ...(usage ? { usage: toUsage(usage) } : {}),
    };
    return { rawBody: JSON.stringify(completion), completion, usageEstimated: usage?.estimated ?? false };
  }

  private event(
    delta: ChatCompletionChunk["choices"][number]["delta"],
    finishReason: string | null,
  ): ProviderStreamEvent {
    const chunk: ChatCompletionChunk = {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    };
    return { data: JSON.stringify(chunk), chunk };
  }
}
