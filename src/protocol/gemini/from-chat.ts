/**
 * A chat completion (https://platform.openai.com/docs/api-reference/chat/object)
 * → the Gemini API's `GenerateContentResponse`
 * (https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse):
 * one candidate whose `content.parts` are, in order, the reasoning as a
 * `thought: true` text part (only when the request's
 * `generationConfig.thinkingConfig.includeThoughts` is true, as Gemini does),
 * the text, and a `functionCall` part per tool call (`args` parsed from the
 * arguments' JSON, `id` the upstream's call id); `finishReason`
 * (`finish-reason.ts`), `usageMetadata` (`usage-metadata.ts`), `modelVersion`
 * (the model named in the URL) and `responseId` (the exchange's id).
 */
import { reasoningText, type ChatCompletion } from "../chat-completion.js";
import { toolInput } from "../anthropic/from-chat.js";
import type { InboundAnswerInfo } from "../inbound.js";
import { geminiFinishReason } from "./finish-reason.js";
import { usageMetadata, type UsageMetadata } from "./usage-metadata.js";

/** One part of an answer. */
export type AnswerPart =
  { text: string; thought?: true } | { functionCall: { id: string; name: string; args: Record<string, unknown> } };

/** One candidate of an answer (llm-relay answers one, index 0). */
export interface AnswerCandidate {
  content: { role: "model"; parts: AnswerPart[] };
  finishReason?: string;
  index: 0;
}

/** A `GenerateContentResponse`, whole or one event of a stream. */
export interface GenerateContentResponse {
  candidates: AnswerCandidate[];
  usageMetadata?: UsageMetadata;
  modelVersion: string;
  responseId: string;
}

/** Whether the request asked for the model's thoughts (`generationConfig.thinkingConfig.includeThoughts`). */
export function includesThoughts(request: Record<string, unknown>): boolean {
  const config = request.generationConfig as { thinkingConfig?: { includeThoughts?: unknown } } | undefined;
  return config?.thinkingConfig?.includeThoughts === true;
}

/** The `functionCall` part of a chat tool call (a call with no id gets `call_<exchange id>_<index>`). */
export function functionCallPart(
  call: { id?: string | undefined; name: string; arguments?: string | undefined },
  index: number,
  info: InboundAnswerInfo,
): AnswerPart {
  return {
    functionCall: {
      id: call.id || `call_${info.exchangeId}_${index}`,
      name: call.name,
      args: toolInput(call.arguments),
    },
  };
}

/** The answer to a chat completion (its first choice). */
export function completionToGenerateContent(
  completion: ChatCompletion,
  info: InboundAnswerInfo,
): GenerateContentResponse {
  const choice = completion.choices[0];
  const message = choice?.message;
  const parts: AnswerPart[] = [];
  const reasoning = reasoningText(message);
  if (reasoning !== null && includesThoughts(info.request)) parts.push({ text: reasoning, thought: true });
  if (typeof message?.content === "string" && message.content !== "") parts.push({ text: message.content });
  (message?.tool_calls ?? []).forEach((call, i) => {
    parts.push(
      functionCallPart({ id: call.id, name: call.function.name, arguments: call.function.arguments }, i, info),
    );
  });
  return {
    candidates: [
      { content: { role: "model", parts }, finishReason: geminiFinishReason(choice?.finish_reason), index: 0 },
    ],
    usageMetadata: usageMetadata(completion.usage, info.promptTokensEstimate),
    modelVersion: info.model,
    responseId: info.exchangeId,
  };
}
