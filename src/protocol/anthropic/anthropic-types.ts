/**
 * The shapes of Anthropic's Messages API (`POST /v1/messages`,
 * `anthropic-version: 2023-06-01`) that the translation reads or writes,
 * as documented at https://docs.anthropic.com/en/api/messages,
 * https://docs.anthropic.com/en/docs/build-with-claude/streaming and
 * https://docs.anthropic.com/en/api/errors. Only the fields used here are
 * typed; the API adds fields over time, and unknown ones are ignored.
 */

/** A text block, in a request or a response. */
export interface AnthropicTextBlock {
  type: "text";
  text: string;
}

/** An image block of a request: inline base64 data, or a URL the API fetches. */
export interface AnthropicImageBlock {
  type: "image";
  source: { type: "base64"; media_type: string; data: string } | { type: "url"; url: string };
}

/** A tool call, in an assistant turn (request history) or in a response. */
export interface AnthropicToolUseBlock {
  type: "tool_use";
  /** `toolu_…`; the matching `tool_result` names it. */
  id: string;
  name: string;
  /** The arguments, as a JSON object (not a string). */
  input: Record<string, unknown>;
}

/** A tool's answer, in a user turn. */
export interface AnthropicToolResultBlock {
  type: "tool_result";
  tool_use_id: string;
  content: string | AnthropicTextBlock[];
}

/** A content block of a request message. */
export type AnthropicRequestBlock =
  AnthropicTextBlock | AnthropicImageBlock | AnthropicToolUseBlock | AnthropicToolResultBlock;

/** One turn of `messages` (the API has no `system` role: the system prompt is the top-level `system`). */
export interface AnthropicMessageParam {
  role: "user" | "assistant";
  content: AnthropicRequestBlock[];
}

/** A client tool definition. */
export interface AnthropicTool {
  name: string;
  description?: string;
  /** JSON Schema of the tool's input object. */
  input_schema: Record<string, unknown>;
}

/** How the model may use tools. `none` has no `disable_parallel_tool_use`. */
export type AnthropicToolChoice =
  | { type: "auto" | "any"; disable_parallel_tool_use?: boolean }
  | { type: "tool"; name: string; disable_parallel_tool_use?: boolean }
  | { type: "none" };

/** The request body of `POST /v1/messages`. */
export interface AnthropicRequest {
  model: string;
  /** Required by the API: the largest completion, in tokens. */
  max_tokens: number;
  messages: AnthropicMessageParam[];
  system?: AnthropicTextBlock[];
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  stream?: boolean;
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  metadata?: { user_id: string };
  /** Fields from the deployment's `extra_body` (e.g. `top_k`, `thinking`). */
  [key: string]: unknown;
}

/**
 * `usage` of a message (all counts in tokens). `input_tokens` excludes the
 * cached parts: `cache_creation_input_tokens` were written to the prompt
 * cache, `cache_read_input_tokens` read from it
 * (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching).
 * Other fields (`cache_creation` by lifetime, `server_tool_use`,
 * `service_tier`) are kept as they come.
 */
export interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  [key: string]: unknown;
}

/**
 * A thinking block of a response (extended thinking,
 * https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking):
 * the model's reasoning (summarised on Claude 4 models) and a `signature`
 * the API checks when the block is sent back. Streamed as a
 * `content_block_start` with empty `thinking` and `signature`, then
 * `thinking_delta` and one `signature_delta`. `redacted_thinking` blocks
 * carry only encrypted `data`.
 */
export interface AnthropicThinkingBlock {
  type: "thinking";
  thinking: string;
  signature?: string;
}

/** A content block of a response; blocks other than text, tool_use and thinking (redacted thinking, server tools) are skipped. */
export type AnthropicResponseBlock =
  AnthropicTextBlock | AnthropicToolUseBlock | AnthropicThinkingBlock | { type: string; [key: string]: unknown };

/** A non-streaming response (`type: "message"`), also the `message` of `message_start`. */
export interface AnthropicMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: AnthropicResponseBlock[];
  /** `end_turn`, `max_tokens`, `stop_sequence`, `tool_use`, `pause_turn`, `refusal`, …; null in `message_start`. */
  stop_reason: string | null;
  stop_sequence?: string | null;
  usage: AnthropicUsage;
}

/** The `error` object of an error body or of an in-band `error` event. */
export interface AnthropicErrorObject {
  /** `invalid_request_error`, `authentication_error`, `rate_limit_error`, `overloaded_error`, … */
  type: string;
  message: string;
}

/** The events of a stream (`event:` name = `data.type`). */
export type AnthropicStreamEvent =
  | { type: "message_start"; message: AnthropicMessage }
  | { type: "content_block_start"; index: number; content_block: AnthropicResponseBlock }
  | {
      type: "content_block_delta";
      index: number;
      delta: { type: string; text?: string; partial_json?: string; thinking?: string; signature?: string };
    }
  | { type: "content_block_stop"; index: number }
  | {
      type: "message_delta";
      delta: { stop_reason?: string | null; stop_sequence?: string | null };
      usage?: AnthropicUsage;
    }
  | { type: "message_stop" }
  | { type: "ping" }
  | { type: "error"; error: AnthropicErrorObject };
