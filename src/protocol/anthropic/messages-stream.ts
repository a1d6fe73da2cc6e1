/**
 * A streamed chat answer (`chat.completion.chunk`s,
 * https://platform.openai.com/docs/api-reference/chat/streaming) → the
 * events of an Anthropic message stream
 * (https://docs.anthropic.com/en/docs/build-with-claude/streaming), each
 * with its `event:` line:
 *
 * 1. `message_start` (empty content, `usage.input_tokens` = the proxy's
 *    estimate of the prompt, `output_tokens` 1) with the first chunk;
 * 2. per block: `content_block_start` (`thinking` for reasoning deltas,
 *    `text` for content, `tool_use` for each tool call), `content_block_delta`s
 *    (`thinking_delta` and `signature_delta` when the upstream gives a signature,
 *    `text_delta`, `input_json_delta`), `content_block_stop` when the next
 *    block starts or the answer ends; a `ping` after the first block's start;
 * 3. at the end: `message_delta` (`stop_reason`, `stop_sequence`, and the
 *    upstream's real usage from its usage chunk), `message_stop`.
 *
 * An answer with no content still gets one empty text block, so clients
 * that wait for a block (Claude Code) see a complete message. A failure
 * after the stream began is an `event: error` with Anthropic's error body.
 */
import { reasoningText, type ChatCompletionChunk, type ChunkChoice, type Usage } from "../chat-completion.js";
import type { RelayError } from "../errors.js";
import type { InboundAnswerInfo, StreamEncoder } from "../inbound.js";
import { anthropicErrorBody } from "./error-body.js";
import { anthropicUsage, messageId, stopReasonOf } from "./from-chat.js";

/** The block being written: its index in the message, its kind, and for a tool call the chat call's index. */
interface OpenBlock {
  index: number;
  kind: "thinking" | "text" | "tool_use";
  toolIndex?: number;
}

/** One SSE event: `event: <type>` and its JSON data. */
function sse(data: { type: string; [key: string]: unknown }): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Encodes one streamed answer; one instance per stream (see the module comment). */
export class MessagesStreamEncoder implements StreamEncoder {
  private started = false;
  private pinged = false;
  private open: OpenBlock | null = null;
  private nextIndex = 0;
  /** Chat tool-call index → its block index (for deltas that come back to an earlier call). */
  private readonly toolBlocks = new Map<number, number>();
  private finishReason: string | null = null;
  private matchedStop: unknown = undefined;
  private usage: Usage | null = null;

  constructor(private readonly info: InboundAnswerInfo) {}

  /** The events of one chunk ("" when it carries nothing to write yet). */
  chunk(chunk: ChatCompletionChunk): string {
    let out = this.start();
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (choice) out += this.choice(choice);
    return out;
  }

  /** The closing events: the open block's stop, `message_delta`, `message_stop`. */
  end(): string {
    let out = this.start();
    if (this.nextIndex === 0) out += this.openBlock("text");
    out += this.closeBlock();
    const stop = stopReasonOf(this.finishReason, this.matchedStop, this.info);
    const usage = anthropicUsage(this.usage, this.info.promptTokensEstimate);
    out += sse({
      type: "message_delta",
      delta: { stop_reason: stop.reason, stop_sequence: stop.sequence },
      usage,
    });
    out += sse({ type: "message_stop" });
    return out;
  }

  /** The in-band `error` event of a stream broken after it began. */
  error(error: RelayError): string {
    const body = anthropicErrorBody(error);
    return sse({ type: "error", error: body.error });
  }

  /** `message_start`, once. */
  private start(): string {
    if (this.started) return "";
    this.started = true;
    return sse({
      type: "message_start",
      message: {
        id: messageId(this.info),
        type: "message",
        role: "assistant",
        model: this.info.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: this.info.promptTokensEstimate, output_tokens: 1 },
      },
    });
  }

  private choice(choice: ChunkChoice): string {
    let out = "";
    const delta = choice.delta ?? {};
    const reasoning = reasoningText(delta);
    if (reasoning !== null) out += this.thinking(reasoning);
    const signature = signatureOf(delta);
    if (signature !== null) out += this.signature(signature);
    if (typeof delta.content === "string" && delta.content !== "") {
      out += this.ensure("text");
      out += this.delta({ type: "text_delta", text: delta.content });
    }
    for (const call of delta.tool_calls ?? []) out += this.toolCall(call);
    if (choice.finish_reason) {
      this.finishReason = choice.finish_reason;
      if (choice.stop_reason !== undefined) this.matchedStop = choice.stop_reason;
    }
    return out;
  }

  private thinking(text: string): string {
    return this.ensure("thinking") + this.delta({ type: "thinking_delta", thinking: text });
  }

  /** A signature ends the thinking block it belongs to (Anthropic sends it last in the block). */
  private signature(signature: string): string {
    if (this.open?.kind !== "thinking") return "";
    return this.delta({ type: "signature_delta", signature });
  }

  private toolCall(call: NonNullable<ChunkChoice["delta"]["tool_calls"]>[number]): string {
    const toolIndex = typeof call.index === "number" ? call.index : this.toolBlocks.size;
    let out = "";
    let blockIndex = this.toolBlocks.get(toolIndex);
    if (blockIndex === undefined) {
      out += this.closeBlock();
      blockIndex = this.nextIndex++;
      this.toolBlocks.set(toolIndex, blockIndex);
      this.open = { index: blockIndex, kind: "tool_use", toolIndex };
      out += sse({
        type: "content_block_start",
        index: blockIndex,
        content_block: {
          type: "tool_use",
          id: call.id || `toolu_${this.info.exchangeId}_${toolIndex}`,
          name: call.function?.name ?? "",
          input: {},
        },
      });
      out += this.ping();
    }
    const piece = call.function?.arguments;
    if (typeof piece === "string" && piece !== "")
      out += sse({
        type: "content_block_delta",
        index: blockIndex,
        delta: { type: "input_json_delta", partial_json: piece },
      });
    return out;
  }

  /** Opens a block of `kind` unless one is open (closing the open block of another kind). */
  private ensure(kind: "thinking" | "text"): string {
    if (this.open?.kind === kind) return "";
    return this.closeBlock() + this.openBlock(kind);
  }

  private openBlock(kind: "thinking" | "text"): string {
    const index = this.nextIndex++;
    this.open = { index, kind };
    const contentBlock =
      kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" };
    return sse({ type: "content_block_start", index, content_block: contentBlock }) + this.ping();
  }

  private closeBlock(): string {
    if (!this.open) return "";
    const { index } = this.open;
    this.open = null;
    return sse({ type: "content_block_stop", index });
  }

  private delta(delta: Record<string, unknown>): string {
    return sse({ type: "content_block_delta", index: this.open?.index ?? 0, delta });
  }

  /** `ping`, once, after the first block's start (where Anthropic's own streams have it). */
  private ping(): string {
    if (this.pinged) return "";
    this.pinged = true;
    return sse({ type: "ping" });
  }
}

/** A thinking signature some upstreams attach to a delta (`signature`, `reasoning_signature`), or null. */
function signatureOf(delta: Record<string, unknown>): string | null {
  for (const key of ["signature", "reasoning_signature"]) {
    const value = delta[key];
    if (typeof value === "string" && value !== "") return value;
  }
  return null;
}
