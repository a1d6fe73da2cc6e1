/**
 * Turns a {@link PendingExchange} (raw upstream output) into the
 * {@link ExchangeRecord} the stores write: text, tool calls,
 * `finish_reason`, usage, resolved model and `response_json`, and the
 * request body without secrets with its sampling options. Runs in the
 * recorder's batch, so the request path never parses upstream JSON nor
 * walks the body.
 */
import type { ChatCompletion, ChatCompletionChunk, Usage } from "../protocol/chat-completion.js";
import { ContentChunkDecoder } from "../protocol/content-chunk-decoder.js";
import { sseDataOf } from "../protocol/sse-text.js";
import { StreamAccumulator, completionOutput } from "../protocol/stream-accumulator.js";
import { samplingOptions, type ChatCompletionRequest } from "../protocol/chat-request.js";
import { redactSecrets } from "./redact.js";
import type { ExchangeRecord, PendingExchange, TokenUsage } from "./types.js";

/**
 * Assembles the record of an exchange. Unparseable payloads are skipped
 * (a truncated stream may end mid-event); never throws.
 */
export function assembleExchange(pending: PendingExchange): ExchangeRecord {
  const { output, errorJson, errorClass: _errorClass, requestBody: sentBody, ...fields } = pending;
  const requestBody = redactSecrets(sentBody);
  const rest = { ...fields, requestBody, options: samplingOptions(requestBody as ChatCompletionRequest) };
  const base = { ...rest, responseText: "", toolCalls: [], finishReason: null, usage: null, resolvedModel: null, responseJson: errorJson };
  if (!output) return base;
  if (output.kind === "completion") {
    const completion = typeof output.body === "string" ? parse<ChatCompletion>(output.body) : output.body;
    if (!completion || typeof completion !== "object") return base;
    const { text, toolCalls, finishReason } = completionOutput(completion);
    return {
      ...rest,
      responseText: text,
      toolCalls,
      finishReason,
      usage: estimatedIf(toTokenUsage(completion.usage), output.usageEstimated),
      resolvedModel: typeof completion.model === "string" ? completion.model : null,
      responseJson: completion,
    };
  }
  const acc = new StreamAccumulator();
  const decoder = new ContentChunkDecoder();
  const events = output.kind === "sse" ? sseDataOf(output.blocks) : output.events;
  for (const event of events) {
    if (typeof event !== "string") {
      if (event && typeof event === "object") acc.add(event);
      continue;
    }
    const content = decoder.content(event);
    if (content !== undefined) {
      acc.addContent(content);
      continue;
    }
    const chunk = parse<ChatCompletionChunk>(event);
    if (chunk && typeof chunk === "object") {
      acc.add(chunk);
      decoder.learn(event, chunk);
    }
  }
  return {
    ...rest,
    responseText: acc.text,
    toolCalls: acc.calls,
    finishReason: acc.finishReason,
    usage: output.kind === "sse" ? toTokenUsage(acc.usage) : estimatedIf(toTokenUsage(acc.usage), output.usageEstimated),
    resolvedModel: acc.model,
    responseJson: acc.toCompletion() as unknown as Record<string, unknown>,
  };
}

/** Flags counts the provider estimated itself (no backend count, no tokenizer endpoint). */
function estimatedIf(usage: TokenUsage | null, estimated: boolean | undefined): TokenUsage | null {
  return usage && estimated ? { ...usage, estimated: true } : usage;
}

function parse<T>(text: string): T | null {
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** Upstream `usage` → our token counts; null when the upstream reported none. */
export function toTokenUsage(usage: Usage | null | undefined): TokenUsage | null {
  if (!usage || typeof usage.prompt_tokens !== "number") return null;
  return { input: usage.prompt_tokens, output: typeof usage.completion_tokens === "number" ? usage.completion_tokens : 0, estimated: false };
}
