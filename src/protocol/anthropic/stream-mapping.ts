/**
 * The events of an Anthropic message stream
 * (https://docs.anthropic.com/en/docs/build-with-claude/streaming) →
 * OpenAI `chat.completion.chunk`s:
 *
 * | Anthropic event | chunks |
 * | --- | --- |
 * | `message_start` | the role chunk (id and model of the message; input usage kept) |
 * | `content_block_start` text | its text, if any |
 * | `content_block_start` thinking | its thinking text as a `reasoning_content` delta, if any |
 * | `content_block_start` tool_use | the call's first delta: `index`, `id`, `type: "function"`, `function.name`, `arguments: ""` |
 * | `content_block_delta` `text_delta` | a content delta |
 * | `content_block_delta` `thinking_delta` | a `reasoning_content` delta |
 * | `content_block_delta` `input_json_delta` | an arguments delta of that block's call |
 * | `message_delta` | nothing yet (stop reason and output usage kept) |
 * | `message_stop` | the finish chunk, then the usage chunk when asked for |
 * | `error` | throws the mapped RelayError |
 * | `ping`, `content_block_stop`, other blocks and deltas (`signature_delta`, redacted thinking, server tools), unknown events | nothing |
 */
import { errors } from "../error-codes.js";
import { ChatOutput } from "../chat-output.js";
import type { ProviderStreamEvent } from "../../providers/types.js";
import type { AnthropicStreamEvent, AnthropicUsage } from "./anthropic-types.js";
import { anthropicStreamError } from "./error-mapping.js";
import { finishReason } from "./finish-reason.js";
import { isThinkingBlock, isToolUseBlock } from "./response-mapping.js";
import { mergeUsage, toOutputUsage } from "./usage-mapping.js";

/** Turns one stream's events into chunks, in order; one instance per stream. */
export class AnthropicStreamMapper {
  private output: ChatOutput | null = null;
  private usage: AnthropicUsage = {};
  private stopReason: string | null = null;
  /** Content block index → tool call index (0, 1, … in the order the calls start). */
  private readonly toolIndexes = new Map<number, number>();
  private done = false;

  /** @param includeUsage whether to end with a usage chunk (the request's `stream_options.include_usage`) */
  constructor(private readonly includeUsage: boolean) {}

  /** True once `message_stop` arrived: the answer is complete. */
  get finished(): boolean {
    return this.done;
  }

  /**
   * The chunks one event becomes (often none).
   * @throws RelayError for an in-band `error` event (status of its error type, see error-mapping.ts),
   *   or 502 `upstream_invalid_response` for content before `message_start`
   */
  map(event: AnthropicStreamEvent): ProviderStreamEvent[] {
    if (this.done) return [];
    switch (event.type) {
      case "message_start": {
        this.output = new ChatOutput(event.message.id, event.message.model);
        this.usage = mergeUsage(this.usage, event.message.usage);
        return [this.output.role()];
      }
      case "content_block_start": {
        const output = this.started(event.type);
        const block = event.content_block;
        if (isToolUseBlock(block)) {
          const index = this.toolIndexes.size;
          this.toolIndexes.set(event.index, index);
          return [
            output.toolCall({ index, id: block.id, type: "function", function: { name: block.name, arguments: "" } }),
          ];
        }
        if (isThinkingBlock(block)) return block.thinking ? [output.reasoning(block.thinking)] : [];
        const text = block.type === "text" ? (block as { text?: unknown }).text : undefined;
        return typeof text === "string" && text ? [output.text(text)] : [];
      }
      case "content_block_delta": {
        const output = this.started(event.type);
        const { delta } = event;
        if (delta.type === "text_delta" && delta.text) return [output.text(delta.text)];
        if (delta.type === "thinking_delta" && typeof delta.thinking === "string" && delta.thinking)
          return [output.reasoning(delta.thinking)];
        const index = this.toolIndexes.get(event.index);
        if (delta.type === "input_json_delta" && delta.partial_json && index !== undefined) {
          return [output.toolCall({ index, function: { arguments: delta.partial_json } })];
        }
        return [];
      }
      case "message_delta": {
        this.started(event.type);
        if (event.delta?.stop_reason) this.stopReason = event.delta.stop_reason;
        this.usage = mergeUsage(this.usage, event.usage);
        return [];
      }
      case "message_stop": {
        const output = this.started(event.type);
        this.done = true;
        const out = [output.finish(finishReason(this.stopReason))];
        if (this.includeUsage) out.push(output.usage(toOutputUsage(this.usage)));
        return out;
      }
      case "error":
        throw anthropicStreamError(event.error ?? { type: "api_error", message: "" });
      default:
        return [];
    }
  }

  private started(eventType: string): ChatOutput {
    if (this.output) return this.output;
    throw errors.upstreamInvalidResponse(`The Anthropic stream sent ${eventType} before message_start`);
  }
}
