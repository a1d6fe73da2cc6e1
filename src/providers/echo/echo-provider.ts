/**
 * The built-in `echo` model: answers with the last user message,
 * streamed in word chunks, with usage counted by gpt-tokenizer, like
 * `llm`'s echo model. Counting runs on the event loop, so each figure counts
 * at most `EVENT_LOOP_COUNT_LIMIT_CHARS` characters (src/tokens/count.ts);
 * a longer prompt or answer is estimated from its size and the usage flagged
 * as estimated. Deterministic; needs no backend, so anyone can try
 * the proxy out of the box.
 */
import { contentText, type ChatCompletionRequest } from "../../protocol/chat-request.js";
import {
  unixSeconds,
  type ChatCompletion,
  type ChatCompletionChunk,
  type Usage,
} from "../../protocol/chat-completion.js";
import { EVENT_LOOP_COUNT_LIMIT_CHARS, TokenCounter } from "../../tokens/count.js";
import { promiseOf } from "../../async/promise-of.js";
import type { ChatProvider, ProviderCall, ProviderCompletion, ProviderStreamEvent } from "../types.js";

/** The text echo answers with: the last user message's text ("" when there is none). */
export function echoText(body: ChatCompletionRequest): string {
  for (let i = body.messages.length - 1; i >= 0; i--) {
    const message = body.messages[i];
    if (message?.role === "user") return contentText(message.content);
  }
  return "";
}

/** Splits text into word chunks, each word with the whitespace that follows it. */
export function wordChunks(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
}

/** The usage of an echo answer, and whether any of it was estimated from the size of a text too long to count on the event loop. */
function usageOf(body: ChatCompletionRequest, text: string): { usage: Usage; estimated: boolean } {
  const promptCounter = new TokenCounter(EVENT_LOOP_COUNT_LIMIT_CHARS);
  const completionCounter = new TokenCounter(EVENT_LOOP_COUNT_LIMIT_CHARS);
  const prompt = promptCounter.prompt(body.messages);
  const completion = completionCounter.text(text);
  return {
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    estimated: promptCounter.estimated || completionCounter.estimated,
  };
}

/** Creates the echo provider (it has no deployment settings). */
export function createEchoProvider(): ChatProvider {
  return {
    kind: "echo",
    complete(call: ProviderCall): Promise<ProviderCompletion> {
      return promiseOf(() => {
        const text = echoText(call.body);
        const { usage, estimated } = usageOf(call.body, text);
        const completion: ChatCompletion = {
          id: `chatcmpl-echo-${call.requestId}`,
          object: "chat.completion",
          created: unixSeconds(),
          model: call.body.model,
          choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
          usage,
        };
        return { rawBody: JSON.stringify(completion), completion, ...(estimated ? { usageEstimated: true } : {}) };
      });
    },
    // eslint-disable-next-line @typescript-eslint/require-await -- an async generator is how this AsyncIterable is written; it has nothing to wait for
    async *stream(call: ProviderCall): AsyncIterable<ProviderStreamEvent> {
      const text = echoText(call.body);
      const base = {
        id: `chatcmpl-echo-${call.requestId}`,
        object: "chat.completion.chunk" as const,
        created: unixSeconds(),
        model: call.body.model,
      };
      const deltas: ChatCompletionChunk[] = [
        { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] },
        ...wordChunks(text).map((word) => ({
          ...base,
          choices: [{ index: 0, delta: { content: word }, finish_reason: null }],
        })),
        { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
      ];
      let estimated = false;
      if (call.body.stream_options?.include_usage) {
        const counted = usageOf(call.body, text);
        estimated = counted.estimated;
        deltas.push({ ...base, choices: [], usage: counted.usage });
      }
      for (const chunk of deltas) {
        if (call.signal.aborted) return;
        yield chunk.usage && estimated
          ? { data: JSON.stringify(chunk), chunk, usageEstimated: true }
          : { data: JSON.stringify(chunk), chunk };
      }
    },
  };
}
