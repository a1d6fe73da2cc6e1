/**
 * The in-band error event that ends a native stream (the upstream's own
 * events, forwarded as they were) broken after it began. The upstream has
 * already opened the answer (`message_start`, `response.created`), so only
 * the failure is written, not an encoder's opening events:
 *
 * - Anthropic Messages: `event: error` with `{"type":"error","error":{"type","message"}}`
 *   (https://docs.anthropic.com/en/docs/build-with-claude/streaming#error-events).
 * - OpenAI Responses: `event: error` with `{"type":"error","code","message","param"}`
 *   (https://platform.openai.com/docs/api-reference/responses-streaming/error).
 *   The upstream's `sequence_number`s are not tracked on the way through, so none is given.
 */
import { anthropicErrorBody } from "./anthropic/error-body.js";
import type { RelayError } from "./errors.js";
import type { NativeProtocol } from "./inbound.js";

/** The SSE text of the error event ending a broken native `protocol` stream. */
export function nativeStreamErrorText(protocol: NativeProtocol, error: RelayError): string {
  if (protocol === "messages") {
    const data = { type: "error", error: anthropicErrorBody(error).error };
    return `event: error\ndata: ${JSON.stringify(data)}\n\n`;
  }
  const data = { type: "error", code: error.code ?? error.type, message: error.message, param: error.param };
  return `event: error\ndata: ${JSON.stringify(data)}\n\n`;
}
