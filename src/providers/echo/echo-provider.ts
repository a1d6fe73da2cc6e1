/**
 * The built-in `echo` model: answers with the last user message,
 * streamed in word chunks, with usage counted by gpt-tokenizer, like
 * `llm`'s echo model. Deterministic; needs no backend, so anyone can try
 * the proxy out of the box.
 */
import { contentText, type ChatCompletionRequest } from "../../protocol/chat-request.js";
import { unixSeconds, type ChatCompletion, type ChatCompletionChunk, type Usage } from "../../protocol/chat-completion.js";
import { countPromptTokens, countTextTokens } from "../../tokens/count.js";
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

function usageOf(body: ChatCompletionRequest, text: string): Usage {
  const prompt = countPromptTokens(body.messages);
  const completion = countTextTokens(text);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Creates the echo provider (it has no deployment settings). */
export function createEchoProvider(): ChatProvider {
  return {
    kind: "echo",
    async complete(call: ProviderCall): Promise<ProviderCompletion> {
      const text = echoText(call.body);
      const completion: ChatCompletion = {
        id: `chatcmpl-echo-${call.requestId}`,
        object: "chat.completion",
        created: unixSeconds(),
        model: call.body.model,
        choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
        usage: usageOf(call.body, text),
      };
      return { rawBody: JSON.stringify(completion), completion };
    },
    async *stream(call: ProviderCall): AsyncIterable<ProviderStreamEvent> {
      const text = echoText(call.body);
      const base = { id: `chatcmpl-echo-${call.requestId}`, object: "chat.completion.chunk" as const, created: unixSeconds(), model: call.body.model };
      const deltas: ChatCompletionChunk[] = [
        { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] },
        ...wordChunks(text).map((word) => ({ ...base, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })),
        { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
      ];
      if (call.body.stream_options?.include_usage) deltas.push({ ...base, choices: [], usage: usageOf(call.body, text) });
      for (const chunk of deltas) {
        if (call.signal.aborted) return;
        yield { data: JSON.stringify(chunk), chunk };
      }
    },
  };
}
