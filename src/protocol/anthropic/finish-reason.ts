/**
 * Anthropic `stop_reason` → OpenAI `finish_reason`
 * (https://docs.anthropic.com/en/api/handling-stop-reasons).
 */

/**
 * The OpenAI `finish_reason` of an Anthropic `stop_reason`:
 * `end_turn`, `stop_sequence` and `pause_turn` (a server tool paused a long
 * turn) → `stop`; `max_tokens` and `model_context_window_exceeded` →
 * `length`; `tool_use` → `tool_calls`; `refusal` → `content_filter`.
 * A missing or unknown reason is `stop`.
 */
export function finishReason(stopReason: string | null | undefined): string {
  switch (stopReason) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return "stop";
  }
}
