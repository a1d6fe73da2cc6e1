/**
 * String checks on a native upstream's SSE text, on the request path (no
 * JSON parse): whether a block carries the answer's first output, for TTFT.
 * Anthropic Messages streams output in `content_block_delta` events
 * (https://docs.anthropic.com/en/docs/build-with-claude/streaming); OpenAI
 * Responses streams in `response.*.delta` events
 * (https://platform.openai.com/docs/api-reference/responses-streaming).
 */
import type { NativeProtocol } from "./inbound.js";

const OUTPUT_EVENT: Record<NativeProtocol, RegExp> = {
  messages: /^event:[ \t]*content_block_delta[ \t]*\r?$/m,
  responses:
    /^event:[ \t]*response\.(?:output_text|refusal|function_call_arguments|reasoning_text|reasoning_summary_text)\.delta[ \t]*\r?$/m,
};

/** Whether `block` (complete SSE events of a `protocol` stream) holds an event carrying output. */
export function sniffNativeOutput(protocol: NativeProtocol, block: string): boolean {
  return OUTPUT_EVENT[protocol].test(block);
}
