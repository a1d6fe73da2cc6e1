/**
 * The token counts an upstream reported in an answer the proxy holds raw
 * (`RawOutput`), read on the request path for the exchange's log line at
 * the cost of one JSON parse: the completion's body, or the one stream
 * event that carries `usage` (looked for from the end, where
 * `stream_options.include_usage` puts it). An answer in another protocol
 * (native Messages/Responses), or one without usage, gives null: the
 * recorder decodes those, and estimates missing counts, off the request path.
 * The `usage` object is OpenAI's Chat Completions one
 * (https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage).
 */
import type { ChatCompletionChunk } from "../protocol/chat-completion.js";
import { sseDataOf } from "../protocol/sse-text.js";
import { readChunk, readCompletion } from "../protocol/upstream-json.js";
import { toTokenUsage } from "../recording/assemble.js";
import type { RawOutput, TokenUsage } from "../recording/types.js";

/**
 * The counts `output` reports (`estimated` when the provider counted them itself), or null.
 * @param provider the provider kind that answered (for llm's `token_details`)
 */
export function reportedUsage(output: RawOutput | null, provider: string | null): TokenUsage | null {
  if (output === null) return null;
  switch (output.kind) {
    case "completion": {
      const read =
        typeof output.body === "string" ? readCompletion(output.body) : { ok: true as const, value: output.body };
      return read.ok ? flagged(toTokenUsage(read.value.usage, provider), output.usageEstimated) : null;
    }
    case "stream":
      return flagged(toTokenUsage(lastUsageChunk(output.events)?.usage, provider), output.usageEstimated);
    case "sse": {
      for (let i = output.blocks.length - 1; i >= 0; i--) {
        if (!output.blocks[i]!.includes('"usage"')) continue;
        const chunk = lastUsageChunk(sseDataOf([output.blocks[i]!]));
        if (chunk) return toTokenUsage(chunk.usage, provider);
      }
      return null;
    }
    case "native":
      return null;
  }
}

/** The last event of a stream whose chunk carries `usage`; strings are parsed only when they mention it. */
function lastUsageChunk(events: readonly (string | ChatCompletionChunk)[]): ChatCompletionChunk | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    if (typeof event !== "string") {
      if (event.usage) return event;
      continue;
    }
    if (!event.includes('"usage"')) continue;
    const read = readChunk(event);
    if (read.ok && read.value.usage) return read.value;
  }
  return null;
}

/** `usage` marked estimated when the provider counted it itself. */
function flagged(usage: TokenUsage | null, estimated: boolean | undefined): TokenUsage | null {
  return usage && estimated ? { ...usage, estimated: true } : usage;
}
