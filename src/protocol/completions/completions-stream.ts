/**
 * A streamed chat answer (`chat.completion.chunk`s, https://platform.openai.com/docs/api-reference/chat/streaming)
 * as the legacy completions stream (https://platform.openai.com/docs/api-reference/completions/create, `stream`):
 * `data:` events each holding a `text_completion` with one choice (`text`, `index`, `logprobs`, `finish_reason`),
 *
 * 1. with `echo`, first an event with the prompt as its text;
 * 2. an event per content delta (its log probabilities in the legacy shape when the client asked for `logprobs` and
 *    the upstream gave them), then one with `text: ""` and the `finish_reason`;
 * 3. with `stream_options.include_usage`, a last event with `choices: []` and the `usage` (the upstream's, else the
 *    proxy's estimate);
 * 4. `data: [DONE]`.
 *
 * A failure after the stream began is `data: {"error": {…}}` (OpenAI's error body) and the stream ends without `[DONE]`.
 */
import type { ChatCompletionChunk, Usage } from "../chat-completion.js";
import type { RelayError } from "../errors.js";
import type { InboundAnswerInfo, StreamEncoder } from "../inbound.js";
import { unixSeconds } from "../chat-completion.js";
import type { CompletionsRequest } from "./completions-request.js";
import { legacyFinishReason, type LegacyFinishReason } from "./finish-reason.js";
import {
  completionId,
  echoedPrompt,
  requestOf,
  textCompletionUsage,
  type TextCompletion,
  type TextCompletionChoice,
} from "./from-chat.js";
import { chatTokenLogprobs, legacyLogprobs } from "./logprobs.js";

/** One SSE event. */
function sse(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

/** Encodes one streamed answer; one instance per stream (see the module comment). */
export class CompletionsStreamEncoder implements StreamEncoder {
  private readonly request: CompletionsRequest;
  private readonly created: number;
  private started = false;
  private finished = false;
  /** The text written so far, the echoed prompt included (log probabilities' `text_offset`). */
  private written = "";
  /** The answer's own text (the usage estimate when the upstream gives none). */
  private answer = "";
  private usage: Usage | null = null;

  constructor(private readonly info: InboundAnswerInfo) {
    this.request = requestOf(info);
    this.created = unixSeconds(info.startedAt);
  }

  chunk(chunk: ChatCompletionChunk): string {
    let out = this.start();
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) return out;
    const content = typeof choice.delta?.content === "string" ? choice.delta.content : "";
    if (content !== "") out += this.text(content, choice.logprobs);
    if (choice.finish_reason && !this.finished) out += this.finish(legacyFinishReason(choice.finish_reason));
    return out;
  }

  end(): string {
    let out = this.start();
    if (!this.finished) out += this.finish("stop");
    if (this.request.stream_options?.include_usage === true) {
      const usage = textCompletionUsage(this.usage, this.info, this.answer);
      out += sse({ ...this.base([]), usage } satisfies TextCompletion);
    }
    return `${out}data: [DONE]\n\n`;
  }

  error(error: RelayError): string {
    return sse(error.toBody());
  }

  /** The echoed prompt, once, before anything else (nothing without `echo`). */
  private start(): string {
    if (this.started) return "";
    this.started = true;
    const prompt = echoedPrompt(this.request);
    if (prompt === "") return "";
    this.written += prompt;
    return sse(this.base([{ text: prompt, index: 0, logprobs: null, finish_reason: null }]));
  }

  private text(content: string, chatLogprobs: unknown): string {
    const top = this.request.logprobs;
    const tokens = typeof top === "number" ? chatTokenLogprobs(chatLogprobs) : null;
    const logprobs = tokens && legacyLogprobs(tokens, this.written.length, top ?? 0);
    this.written += content;
    this.answer += content;
    return sse(this.base([{ text: content, index: 0, logprobs, finish_reason: null }]));
  }

  private finish(reason: LegacyFinishReason): string {
    this.finished = true;
    return sse(this.base([{ text: "", index: 0, logprobs: null, finish_reason: reason }]));
  }

  private base(choices: TextCompletionChoice[]): TextCompletion {
    return {
      id: completionId(this.info),
      object: "text_completion",
      created: this.created,
      model: this.info.model,
      choices,
    };
  }
}
