/**
 * A chat completion (https://platform.openai.com/docs/api-reference/chat/object) as a legacy `text_completion`
 * (https://platform.openai.com/docs/api-reference/completions/object):
 * `{id: "cmpl-…", object: "text_completion", created, model, choices: [{text, index, logprobs, finish_reason}], usage}`.
 * `text` is the answer's content (after the prompt when the client asked for `echo`); reasoning and tool calls have
 * no place in the legacy shape and stay in the record only.
 */
import { unixSeconds, type ChatCompletion, type Usage } from "../chat-completion.js";
import type { InboundAnswerInfo } from "../inbound.js";
import { countTextTokens, EVENT_LOOP_COUNT_LIMIT_CHARS } from "../../tokens/count.js";
import { promptsOf, type CompletionsRequest } from "./completions-request.js";
import { legacyFinishReason, type LegacyFinishReason } from "./finish-reason.js";
import { chatTokenLogprobs, legacyLogprobs, type LegacyLogprobs } from "./logprobs.js";

/** One choice of a `text_completion`. */
export interface TextCompletionChoice {
  text: string;
  index: number;
  logprobs: LegacyLogprobs | null;
  finish_reason: LegacyFinishReason | null;
}

/** The usage of a `text_completion`, in tokens. */
export interface TextCompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** A `text_completion` (a whole answer, or one streamed chunk). */
export interface TextCompletion {
  id: string;
  object: "text_completion";
  /** Unix seconds. */
  created: number;
  model: string;
  choices: TextCompletionChoice[];
  usage?: TextCompletionUsage | null;
}

/** The answer's id: `cmpl-` and the exchange's id. */
export function completionId(info: InboundAnswerInfo): string {
  return `cmpl-${info.exchangeId}`;
}

/** The validated request of an answer (the adapter's `parse` result). */
export function requestOf(info: InboundAnswerInfo): CompletionsRequest {
  return info.request as CompletionsRequest;
}

/** The text an answer starts with: the prompt when the client asked for `echo`, else "". */
export function echoedPrompt(request: CompletionsRequest): string {
  return request.echo === true ? (promptsOf(request)[0] ?? "") : "";
}

/**
 * The usage of an answer: the upstream's counts, else the proxy's estimate (the prompt as counted before the call,
 * the text counted with the tokenizer).
 */
export function textCompletionUsage(
  usage: Usage | null | undefined,
  info: InboundAnswerInfo,
  text: string,
): TextCompletionUsage {
  const prompt = usage?.prompt_tokens ?? info.promptTokensEstimate;
  const completion = usage?.completion_tokens ?? countTextTokens(text, EVENT_LOOP_COUNT_LIMIT_CHARS);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** The `text_completion` of a chat completion (its first choice). */
export function completionToText(completion: ChatCompletion, info: InboundAnswerInfo): TextCompletion {
  const request = requestOf(info);
  const choice = completion.choices[0];
  const content = typeof choice?.message.content === "string" ? choice.message.content : "";
  const echoed = echoedPrompt(request);
  const tokens = typeof request.logprobs === "number" ? chatTokenLogprobs(choice?.logprobs) : null;
  return {
    id: completionId(info),
    object: "text_completion",
    created: unixSeconds(info.startedAt),
    model: info.model,
    choices: [
      {
        text: echoed + content,
        index: 0,
        logprobs: tokens && legacyLogprobs(tokens, echoed.length, request.logprobs ?? 0),
        finish_reason: legacyFinishReason(choice?.finish_reason),
      },
    ],
    usage: textCompletionUsage(completion.usage, info, content),
  };
}
