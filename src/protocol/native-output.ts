/**
 * Reading an answer a native upstream gave in the client's own protocol
 * (Anthropic Messages, OpenAI Responses) as the chat completion or
 * `chat.completion.chunk`s it stands for, so that the recorder assembles
 * it like any other (text, tool calls, reasoning, usage, finish reason).
 * Runs in the recorder's batch, never on the request path.
 */
import type { ChatCompletion, ChatCompletionChunk } from "./chat-completion.js";
import type { NativeProtocol } from "./inbound.js";
import { decodeAnthropicMessage, decodeAnthropicStream } from "./anthropic/native-decode.js";
import { decodeResponsesBody, decodeResponsesStream } from "./responses/native-decode.js";

/** A native answer as the exchange kept it: the body, or the SSE blocks, exactly as the upstream sent them. */
export interface NativeOutput {
  protocol: NativeProtocol;
  /** Whether the answer was streamed (then `blocks` holds it, else `body`). */
  stream: boolean;
  /** The non-streamed body (JSON text); "" for a stream. */
  body: string;
  /** The stream's SSE blocks, complete events, `event:` lines included; empty for a non-streamed answer. */
  blocks: readonly string[];
}

/** The chat form of a native answer: a completion, or the chunks of a stream in order. */
export type DecodedNativeOutput =
  | { kind: "completion"; body: ChatCompletion; usageEstimated?: boolean }
  | { kind: "stream"; events: readonly ChatCompletionChunk[]; usageEstimated?: boolean };

/**
 * The chat form of a native answer.
 * @throws Error when the body or an event is not the protocol's (the recorder records the exchange `error` with the raw text)
 */
export function decodeNativeOutput(output: NativeOutput): DecodedNativeOutput {
  if (output.protocol === "messages")
    return output.stream
      ? { kind: "stream", events: decodeAnthropicStream(output.blocks) }
      : { kind: "completion", body: decodeAnthropicMessage(output.body) };
  return output.stream
    ? decodeResponsesStream(output.blocks)
    : { kind: "completion", body: decodeResponsesBody(output.body) };
}
