/**
 * Turns a {@link PendingExchange} (raw upstream output) into the
 * {@link ExchangeRecord} the stores write: text, reasoning, tool calls,
 * `finish_reason`, usage (with llm's `token_details`, see
 * token-details.ts), resolved model and `response_json`, and the
 * request body without secrets with its sampling options. Runs in the
 * recorder's batch, so the request path never parses upstream stream
 * events nor walks the body.
 *
 * Garbage from the upstream is recorded as such: a stream event whose
 * `data:` is not a `chat.completion.chunk` (not JSON, cut, `[null]`…) makes
 * an `ok` exchange `error`, naming the event by its first bytes, with the
 * text that came before it (an OpenAI SDK client fails at that event too);
 * what follows it is not read. A completion body that is not a
 * `chat.completion` likewise (providers already answer it with a 502).
 */
import type { ChatCompletion, Usage } from "../protocol/chat-completion.js";
import { ContentChunkDecoder } from "../protocol/content-chunk-decoder.js";
import { sseDataOf } from "../protocol/sse-text.js";
import { StreamAccumulator, completionOutput } from "../protocol/stream-accumulator.js";
import { samplingOptions, type ChatCompletionRequest } from "../protocol/chat-request.js";
import { quoteUpstream } from "../protocol/errors.js";
import { readChunk, readCompletion } from "../protocol/upstream-json.js";
import { decodeNativeOutput } from "../protocol/native-output.js";
import { redactSecrets } from "./redact.js";
import { tokenDetails } from "./token-details.js";
import type { ExchangeRecord, PendingExchange, TokenUsage } from "./types.js";

/**
 * Assembles the record of an exchange. Never throws. An invalid payload
 * ends what is read of the output; it turns an `ok` exchange into an
 * `error` one (a cancelled or truncated one keeps its status: a stream cut
 * short may end mid-event).
 */
export function assembleExchange(pending: PendingExchange): ExchangeRecord {
  // `errorClass` stays out of the record (an ExchangeRecord has no such field).
  const {
    output: rawOutput,
    errorJson,
    errorClass,
    requestBody: sentBody,
    receivedBody,
    refusedPromptTokens,
    ...fields
  } = pending;
  const requestBody = redactSecrets(sentBody);
  const rest = {
    ...fields,
    requestBody,
    ...(receivedBody ? { receivedBody: redactSecrets(receivedBody) } : {}),
    options: samplingOptions(requestBody as ChatCompletionRequest),
  };
  const refusedUsage =
    typeof refusedPromptTokens === "number" ? { input: refusedPromptTokens, output: 0, estimated: false } : null;
  const base = {
    ...rest,
    responseText: "",
    toolCalls: [],
    reasoning: null,
    finishReason: null,
    usage: refusedUsage,
    resolvedModel: null,
    responseJson: errorJson,
  };
  if (!rawOutput) return base;
  // An answer in another protocol (a native upstream's) is read as the chat completion or chunks it stands for.
  const output = rawOutput.kind === "native" ? decodeNativeOutput(rawOutput) : rawOutput;
  if (output.kind === "completion") {
    let completion: ChatCompletion;
    if (typeof output.body === "string") {
      const read = readCompletion(output.body);
      if (!read.ok)
        return {
          ...base,
          ...invalidOutput(fields, `a body that is not a chat.completion (${read.problem})`, output.body),
          responseJson: { upstream_body: output.body },
        };
      completion = read.value;
    } else {
      completion = output.body;
    }
    const { text, reasoning, toolCalls, finishReason } = completionOutput(completion);
    return {
      ...rest,
      responseText: text,
      toolCalls,
      reasoning,
      finishReason,
      usage: estimatedIf(toTokenUsage(completion.usage, fields.provider), output.usageEstimated),
      resolvedModel: typeof completion.model === "string" ? completion.model : null,
      responseJson: completion,
    };
  }
  const acc = new StreamAccumulator();
  const decoder = new ContentChunkDecoder();
  const events = output.kind === "sse" ? sseDataOf(output.blocks) : output.events;
  let invalid: Pick<ExchangeRecord, "status" | "error"> | null = null;
  for (const event of events) {
    if (typeof event !== "string") {
      if (event && typeof event === "object") acc.add(event);
      continue;
    }
    const delta = decoder.decode(event);
    if (delta !== undefined) {
      if (delta.kind === "content") acc.addContent(delta.text);
      else acc.addReasoning(delta.text);
      continue;
    }
    if (event === "[DONE]") continue;
    const read = readChunk(event);
    if (!read.ok) {
      invalid = invalidOutput(fields, `a stream event that is not a chat.completion.chunk (${read.problem})`, event);
      break;
    }
    acc.add(read.value);
    decoder.learn(event, read.value);
  }
  return {
    ...rest,
    ...invalid,
    responseText: acc.text,
    toolCalls: acc.calls,
    reasoning: acc.reasoning,
    finishReason: acc.finishReason,
    usage:
      output.kind === "sse"
        ? toTokenUsage(acc.usage, fields.provider)
        : estimatedIf(toTokenUsage(acc.usage, fields.provider), output.usageEstimated),
    resolvedModel: acc.model,
    responseJson: acc.toCompletion(),
  };
}

/** Flags counts the provider estimated itself (no backend count, no tokenizer endpoint). */
function estimatedIf(usage: TokenUsage | null, estimated: boolean | undefined): TokenUsage | null {
  return usage && estimated ? { ...usage, estimated: true } : usage;
}

/**
 * The status and error of an exchange whose upstream output was invalid:
 * an `ok` exchange becomes `error`, its error naming the payload by its
 * first bytes; any other keeps its own status and error.
 */
function invalidOutput(
  exchange: Pick<ExchangeRecord, "status" | "error">,
  what: string,
  payload: string,
): Pick<ExchangeRecord, "status" | "error"> {
  if (exchange.status !== "ok") return { status: exchange.status, error: exchange.error };
  return { status: "error", error: `The upstream sent ${what}: ${quoteUpstream(payload)}` };
}

/**
 * Upstream `usage` → our token counts, with llm's `token_details` (left
 * out when nothing but the counts remains); null when the upstream reported none.
 * @param provider the provider kind that answered (see {@link tokenDetails})
 */
export function toTokenUsage(usage: Usage | null | undefined, provider: string | null): TokenUsage | null {
  if (!usage || typeof usage.prompt_tokens !== "number") return null;
  const details = tokenDetails(usage, provider);
  return {
    input: usage.prompt_tokens,
    output: typeof usage.completion_tokens === "number" ? usage.completion_tokens : 0,
    estimated: false,
    ...(details ? { details } : {}),
  };
}
