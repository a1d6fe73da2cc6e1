/**
 * A streamed chat answer re-encoded as OpenAI Responses streaming events
 * (https://platform.openai.com/docs/api-reference/responses-streaming),
 * each written as `event: <type>\ndata: {…}\n\n` with `type` and a
 * `sequence_number` counting from 0:
 *
 * `response.created`, `response.in_progress`; per output item
 * `response.output_item.added` … `response.output_item.done`, with between
 * them, for reasoning, `response.reasoning_summary_part.added`,
 * `response.reasoning_summary_text.delta`/`.done`,
 * `response.reasoning_summary_part.done`; for text,
 * `response.content_part.added`, `response.output_text.delta`/`.done`,
 * `response.content_part.done`; for a tool call,
 * `response.function_call_arguments.delta`/`.done`. The stream ends with
 * `response.completed` (or `response.incomplete` for a `length` or
 * `content_filter` finish) carrying the whole response and its `usage`; a
 * failure after the start ends it with an `error` event and `response.failed`.
 *
 * Items open in the order the chat deltas need them (reasoning, text,
 * calls); an item is closed when the next one opens, so an
 * `output_item.added` always precedes its deltas (Codex needs that).
 */
import { reasoningText, type ChatCompletionChunk, type ToolCallDelta } from "../chat-completion.js";
import type { RelayError } from "../errors.js";
import type { InboundAnswerInfo, StreamEncoder } from "../inbound.js";
import {
  endOf,
  functionCallItem,
  itemIds,
  messageItem,
  outputText,
  reasoningItem,
  responseObject,
  responsesUsage,
  toolsOf,
  type OutputItem,
  type ResponseEnd,
  type ResponsesUsage,
} from "./from-chat.js";
import { FunctionNames } from "./to-chat.js";

/** An output item being streamed. */
interface OpenItem {
  kind: "reasoning" | "message" | "function_call";
  id: string;
  outputIndex: number;
  /** The text, or the call's arguments, so far. */
  text: string;
  callId?: string;
  chatName?: string;
}

/** A fresh encoder for one streamed answer. */
export function responsesStreamEncoder(info: InboundAnswerInfo): StreamEncoder {
  return new ResponsesStreamEncoder(info);
}

class ResponsesStreamEncoder implements StreamEncoder {
  private sequence = 0;
  private started = false;
  private finished = false;
  private readonly output: OutputItem[] = [];
  private open: OpenItem | null = null;
  /** The open function calls by their chat `index`. */
  private readonly calls = new Map<number, OpenItem>();
  private callCount = 0;
  private finishReason: string | null = null;
  private usage: ResponsesUsage | null = null;
  private readonly names: FunctionNames;

  constructor(private readonly info: InboundAnswerInfo) {
    this.names = new FunctionNames(toolsOf(info.request));
  }

  chunk(chunk: ChatCompletionChunk): string {
    let out = this.start();
    if (chunk.usage) this.usage = responsesUsage(chunk.usage);
    const choice = chunk.choices?.[0];
    if (!choice) return out;
    const delta = choice.delta ?? {};
    const reasoning = reasoningText(delta);
    if (reasoning !== null) out += this.reasoningDelta(reasoning);
    if (typeof delta.content === "string" && delta.content !== "") out += this.textDelta(delta.content);
    for (const call of delta.tool_calls ?? []) out += this.callDelta(call);
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    return out;
  }

  end(): string {
    if (this.finished) return "";
    let out = this.start() + this.closeAll();
    this.finished = true;
    const end = endOf(this.finishReason);
    const type = end.status === "completed" ? "response.completed" : "response.incomplete";
    out += this.event(type, { response: this.response(end) });
    return out;
  }

  error(error: RelayError): string {
    if (this.finished) return "";
    let out = this.start();
    this.finished = true;
    const code = error.code ?? error.type;
    out += this.event("error", { code, message: error.message, param: error.param });
    const end: ResponseEnd = { status: "failed", incomplete_details: null, error: { code, message: error.message } };
    out += this.event("response.failed", { response: this.response(end) });
    return out;
  }

  private start(): string {
    if (this.started) return "";
    this.started = true;
    const end: ResponseEnd = { status: "in_progress", incomplete_details: null, error: null };
    return (
      this.event("response.created", { response: this.response(end) }) +
      this.event("response.in_progress", { response: this.response(end) })
    );
  }

  private response(end: ResponseEnd): Record<string, unknown> {
    const usage = end.status === "in_progress" ? null : this.usage;
    const open = this.open?.outputIndex;
    return responseObject(
      this.info,
      this.output.filter((_, index) => index !== open),
      end,
      usage,
    );
  }

  private reasoningDelta(text: string): string {
    let out = "";
    if (this.open?.kind !== "reasoning") {
      out += this.closeAll();
      const item = this.openItem("reasoning", itemIds.reasoning(this.info.exchangeId));
      out += this.event("response.output_item.added", {
        output_index: item.outputIndex,
        item: { id: item.id, type: "reasoning", summary: [] },
      });
      out += this.event("response.reasoning_summary_part.added", {
        item_id: item.id,
        output_index: item.outputIndex,
        summary_index: 0,
        part: { type: "summary_text", text: "" },
      });
    }
    const item = this.open as OpenItem;
    item.text += text;
    return (
      out +
      this.event("response.reasoning_summary_text.delta", {
        item_id: item.id,
        output_index: item.outputIndex,
        summary_index: 0,
        delta: text,
      })
    );
  }

  private textDelta(text: string): string {
    let out = "";
    if (this.open?.kind !== "message") {
      out += this.closeAll();
      const item = this.openItem("message", itemIds.message(this.info.exchangeId));
      out += this.event("response.output_item.added", {
        output_index: item.outputIndex,
        item: messageItem(item.id, null, "in_progress"),
      });
      out += this.event("response.content_part.added", {
        item_id: item.id,
        output_index: item.outputIndex,
        content_index: 0,
        part: outputText(""),
      });
    }
    const item = this.open as OpenItem;
    item.text += text;
    return (
      out +
      this.event("response.output_text.delta", {
        item_id: item.id,
        output_index: item.outputIndex,
        content_index: 0,
        delta: text,
        logprobs: [],
      })
    );
  }

  private callDelta(call: ToolCallDelta): string {
    const index = call.index ?? 0;
    let out = "";
    let item = this.calls.get(index);
    if (!item) {
      out += this.closeAll();
      item = this.openItem("function_call", itemIds.functionCall(this.info.exchangeId, this.callCount++));
      item.callId = call.id ?? `call_${item.id}`;
      item.chatName = call.function?.name ?? "";
      this.calls.set(index, item);
      out += this.event("response.output_item.added", {
        output_index: item.outputIndex,
        item: functionCallItem(item.id, item.callId, item.chatName, "", "in_progress", this.names),
      });
    } else if (this.open !== item) {
      // A later delta of a call that was closed when another opened: arguments must stay with their item.
      return out;
    }
    const args = call.function?.arguments ?? "";
    if (args === "") return out;
    item.text += args;
    return (
      out +
      this.event("response.function_call_arguments.delta", {
        item_id: item.id,
        output_index: item.outputIndex,
        delta: args,
      })
    );
  }

  private openItem(kind: OpenItem["kind"], id: string): OpenItem {
    const item: OpenItem = { kind, id, outputIndex: this.output.length, text: "" };
    // Reserve the item's place in `output`; it is written there when it closes.
    this.output.push({ id, type: kind });
    this.open = item;
    return item;
  }

  /** Closes the open item (its `.done` events and `response.output_item.done`). */
  private closeAll(): string {
    const item = this.open;
    if (!item) return "";
    this.open = null;
    const base = { item_id: item.id, output_index: item.outputIndex };
    let out = "";
    let done: OutputItem;
    switch (item.kind) {
      case "reasoning":
        out += this.event("response.reasoning_summary_text.done", { ...base, summary_index: 0, text: item.text });
        out += this.event("response.reasoning_summary_part.done", {
          ...base,
          summary_index: 0,
          part: { type: "summary_text", text: item.text },
        });
        done = reasoningItem(item.id, item.text, "completed");
        break;
      case "message": {
        const status = this.finishReason === "length" ? "incomplete" : "completed";
        out += this.event("response.output_text.done", { ...base, content_index: 0, text: item.text, logprobs: [] });
        out += this.event("response.content_part.done", { ...base, content_index: 0, part: outputText(item.text) });
        done = messageItem(item.id, item.text, status);
        break;
      }
      case "function_call":
        out += this.event("response.function_call_arguments.done", { ...base, arguments: item.text });
        done = functionCallItem(item.id, item.callId ?? "", item.chatName ?? "", item.text, "completed", this.names);
        break;
    }
    this.output[item.outputIndex] = done;
    out += this.event("response.output_item.done", { output_index: item.outputIndex, item: done });
    return out;
  }

  private event(type: string, fields: Record<string, unknown>): string {
    const data = JSON.stringify({ type, sequence_number: this.sequence++, ...fields });
    return `event: ${type}\ndata: ${data}\n\n`;
  }
}
