/**
 * A streamed chat answer (`chat.completion.chunk`s,
 * https://platform.openai.com/docs/api-reference/chat/streaming) → Ollama's
 * NDJSON stream of `/api/chat` or `/api/generate`
 * (https://github.com/ollama/ollama/blob/main/docs/api.md, "Chat Request
 * (Streaming)"; NDJSON: https://github.com/ndjson/ndjson-spec), one JSON
 * object per line, `content-type: application/x-ndjson`:
 *
 * - each reasoning delta → an object with `thinking` (in `message` for chat, beside
 *   `response` for generate), unless the request said `think: false`;
 * - each text delta → an object with the text (`message.content` / `response`), `done: false`, and
 *   its `logprobs` when the chunk has them;
 * - tool calls are gathered while their arguments stream, then sent whole in one
 *   `done: false` object (Ollama sends a call with its arguments as an object, never in pieces);
 * - last, the `done: true` object with `done_reason`, the counts (the upstream's usage
 *   chunk, else the proxy's prompt estimate and 0) and the durations in ns
 *   (answer-metrics.ts: TTFT is `prompt_eval_duration`).
 *
 * A failure after the stream began is an `{"error": "<message>"}` line, which the
 * `ollama` client raises as an Error.
 */
import { reasoningText, type ChatCompletionChunk, type Usage } from "../chat-completion.js";
import type { RelayError } from "../errors.js";
import type { InboundAnswerInfo, StreamEncoder } from "../inbound.js";
import { doneReasonOf, ollamaMetrics } from "./answer-metrics.js";
import { ollamaErrorBody } from "./error-body.js";
import { ollamaLogprobs } from "./logprobs.js";
import { answerObject, ollamaToolCall, thinkingOff, type OllamaEndpoint, type OllamaOutput } from "./from-chat.js";

/** One NDJSON line. */
function line(object: unknown): string {
  return `${JSON.stringify(object)}\n`;
}

/** A tool call being gathered: its id, name and argument pieces so far. */
interface GatheredCall {
  id: string | undefined;
  name: string;
  arguments: string;
}

/** Encodes one streamed answer; one instance per stream (see the module comment). */
export class OllamaNdjsonEncoder implements StreamEncoder {
  private readonly calls = new Map<number, GatheredCall>();
  private callsSent = false;
  private finishReason: string | null = null;
  private usage: Usage | null = null;
  private firstOutputAt: number | null = null;
  private readonly showThinking: boolean;

  constructor(
    private readonly endpoint: OllamaEndpoint,
    private readonly info: InboundAnswerInfo,
  ) {
    this.showThinking = !thinkingOff(info);
  }

  /** The lines of one chunk ("" when it carries nothing to write yet). */
  chunk(chunk: ChatCompletionChunk): string {
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) return "";
    let out = "";
    const delta = choice.delta ?? {};
    const reasoning = reasoningText(delta);
    if (reasoning !== null) {
      this.sawOutput();
      if (this.showThinking) out += this.output({ content: "", thinking: reasoning, toolCalls: [] });
    }
    if (typeof delta.content === "string" && delta.content !== "") {
      this.sawOutput();
      out += this.output({
        content: delta.content,
        thinking: null,
        toolCalls: [],
        logprobs: ollamaLogprobs(choice.logprobs),
      });
    }
    for (const call of delta.tool_calls ?? []) {
      this.sawOutput();
      const index = typeof call.index === "number" ? call.index : this.calls.size;
      const gathered = this.calls.get(index) ?? { id: undefined, name: "", arguments: "" };
      if (call.id) gathered.id = call.id;
      if (call.function?.name) gathered.name += call.function.name;
      if (call.function?.arguments) gathered.arguments += call.function.arguments;
      this.calls.set(index, gathered);
    }
    if (choice.finish_reason) {
      this.finishReason = choice.finish_reason;
      out += this.toolCallLine();
    }
    return out;
  }

  /** The tool calls not sent yet, then the `done: true` object. */
  end(): string {
    const endedAt = Date.now();
    const metrics = ollamaMetrics(this.usage, this.info.promptTokensEstimate, {
      startedAt: this.info.startedAt,
      firstOutputAt: this.firstOutputAt,
      endedAt,
    });
    const done = { done_reason: doneReasonOf(this.finishReason), ...metrics };
    return this.toolCallLine() + line(answerObject(this.endpoint, this.info, emptyOutput(), done));
  }

  /** The in-band `{"error": "…"}` line of a stream broken after it began. */
  error(error: RelayError): string {
    return line(ollamaErrorBody(error));
  }

  private output(output: OllamaOutput): string {
    return line(answerObject(this.endpoint, this.info, output, null));
  }

  /** The gathered tool calls in one `done: false` object, once (chat only: generate has no tools). */
  private toolCallLine(): string {
    if (this.callsSent || this.calls.size === 0 || this.endpoint !== "chat") return "";
    this.callsSent = true;
    const toolCalls = [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, call], i) => ollamaToolCall(call.id, i, call));
    return this.output({ content: "", thinking: null, toolCalls });
  }

  private sawOutput(): void {
    this.firstOutputAt ??= Date.now();
  }
}

function emptyOutput(): OllamaOutput {
  return { content: "", thinking: null, toolCalls: [] };
}
