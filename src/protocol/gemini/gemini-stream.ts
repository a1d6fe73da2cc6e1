/**
 * A streamed chat answer (`chat.completion.chunk`s,
 * https://platform.openai.com/docs/api-reference/chat/streaming) → the
 * stream of `models.streamGenerateContent`
 * (https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent):
 * a sequence of `GenerateContentResponse`s, each with the new parts only.
 *
 * - a content delta → an event with one text part; a reasoning delta → one
 *   `thought: true` text part (only when the request's `includeThoughts` is true);
 * - tool-call deltas are gathered (Gemini gives a `functionCall` whole, `args` an object);
 * - at the end, one last event carries the function calls (or an empty text part when
 *   there are none, as Gemini's own last event often does), `finishReason` and
 *   `usageMetadata` (the upstream's usage chunk). Gemini CLI needs that `finishReason`.
 *
 * Framing: with `?alt=sse`, each event is an SSE `data:` line; without it Google
 * streams one JSON array (`[` event `,` event … `]`). A failure after the stream
 * began is Google's error object as one more event (`{"error":{code,message,status}}`),
 * which Google's SDKs raise as an `ApiError`.
 */
import { reasoningText, type ChatCompletionChunk, type ChunkChoice, type Usage } from "../chat-completion.js";
import type { RelayError } from "../errors.js";
import type { InboundAnswerInfo, StreamEncoder } from "../inbound.js";
import { geminiErrorBody } from "./error-body.js";
import { geminiFinishReason } from "./finish-reason.js";
import { functionCallPart, includesThoughts, type AnswerPart, type GenerateContentResponse } from "./from-chat.js";
import { usageMetadata } from "./usage-metadata.js";

/** How the events are written: SSE `data:` events (`?alt=sse`) or one JSON array. */
export type StreamFraming = "sse" | "json-array";

/** A tool call being gathered from its deltas. */
interface GatheredCall {
  id: string | undefined;
  name: string;
  arguments: string;
}

/** Encodes one streamed answer; one instance per stream (see the module comment). */
export class GeminiStreamEncoder implements StreamEncoder {
  private readonly thoughts: boolean;
  private written = 0;
  private readonly calls = new Map<number, GatheredCall>();
  private finishReason: string | null = null;
  private usage: Usage | null = null;

  constructor(
    private readonly info: InboundAnswerInfo,
    private readonly framing: StreamFraming,
  ) {
    this.thoughts = includesThoughts(info.request);
  }

  /** The events of one chunk ("" when it carries nothing to write yet). */
  chunk(chunk: ChatCompletionChunk): string {
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) return "";
    this.gather(choice);
    const delta = choice.delta ?? {};
    const parts: AnswerPart[] = [];
    const reasoning = reasoningText(delta);
    if (reasoning !== null && this.thoughts) parts.push({ text: reasoning, thought: true });
    if (typeof delta.content === "string" && delta.content !== "") parts.push({ text: delta.content });
    return parts.length > 0 ? this.event(this.response(parts)) : "";
  }

  /** The last event (function calls, `finishReason`, `usageMetadata`), and the array's end when framed as one. */
  end(): string {
    const parts = [...this.calls.values()].map((call, i) => functionCallPart(call, i, this.info));
    const last = this.response(parts.length > 0 ? parts : [{ text: "" }]);
    last.candidates[0]!.finishReason = geminiFinishReason(this.finishReason);
    last.usageMetadata = usageMetadata(this.usage, this.info.promptTokensEstimate);
    return this.event(last) + this.close();
  }

  /** Google's error object as the stream's last event. */
  error(error: RelayError): string {
    return this.event(geminiErrorBody(error)) + this.close();
  }

  /** Remembers the finish reason and the tool-call pieces of a choice. */
  private gather(choice: ChunkChoice): void {
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    for (const call of choice.delta?.tool_calls ?? []) {
      const index = typeof call.index === "number" ? call.index : this.calls.size;
      let gathered = this.calls.get(index);
      if (!gathered) {
        gathered = { id: undefined, name: "", arguments: "" };
        this.calls.set(index, gathered);
      }
      if (call.id) gathered.id = call.id;
      if (call.function?.name) gathered.name += call.function.name;
      if (typeof call.function?.arguments === "string") gathered.arguments += call.function.arguments;
    }
  }

  private response(parts: AnswerPart[]): GenerateContentResponse {
    return {
      candidates: [{ content: { role: "model", parts }, index: 0 }],
      modelVersion: this.info.model,
      responseId: this.info.exchangeId,
    };
  }

  /** One event in the stream's framing. */
  private event(body: object): string {
    const json = JSON.stringify(body);
    if (this.framing === "sse") return `data: ${json}\r\n\r\n`;
    return `${this.written++ === 0 ? "[" : ",\r\n"}${json}`;
  }

  /** The end of a JSON array stream ("" for SSE). */
  private close(): string {
    if (this.framing === "sse") return "";
    return this.written === 0 ? "[]" : "]";
  }
}
