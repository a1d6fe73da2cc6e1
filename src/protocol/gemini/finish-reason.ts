/**
 * Chat Completions `finish_reason` → the Gemini API's `FinishReason`
 * (https://ai.google.dev/api/generate-content#FinishReason).
 */

/**
 * The Gemini `finishReason` of a chat `finish_reason`: `stop` → `STOP`; `length` → `MAX_TOKENS`;
 * `tool_calls`/`function_call` → `STOP` (Gemini ends a turn of function calls with `STOP`);
 * `content_filter` → `SAFETY`; none → `STOP`; anything else → `OTHER`.
 */
export function geminiFinishReason(finishReason: string | null | undefined): string {
  switch (finishReason) {
    case undefined:
    case null:
    case "stop":
    case "tool_calls":
    case "function_call":
      return "STOP";
    case "length":
      return "MAX_TOKENS";
    case "content_filter":
      return "SAFETY";
    default:
      return "OTHER";
  }
}
