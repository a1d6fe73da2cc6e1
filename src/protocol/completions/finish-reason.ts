/**
 * Chat's `finish_reason` (https://platform.openai.com/docs/api-reference/chat/object) as the legacy completions'
 * (`stop` | `length` | `content_filter`, https://platform.openai.com/docs/api-reference/completions/object).
 */

/** A legacy completion's `finish_reason`. */
export type LegacyFinishReason = "stop" | "length" | "content_filter";

/** `length` and `content_filter` as they are; everything else (`stop`, `tool_calls`, none) is `stop`. */
export function legacyFinishReason(reason: string | null | undefined): LegacyFinishReason {
  return reason === "length" || reason === "content_filter" ? reason : "stop";
}
