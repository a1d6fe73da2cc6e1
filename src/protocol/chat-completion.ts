/**
 * Response shapes of the Chat Completions API: `chat.completion` and
 * `chat.completion.chunk`, as OpenAI's API reference documents them
 * (https://platform.openai.com/docs/api-reference/chat/object and
 * .../chat/streaming). Only the fields the proxy reads are typed; the
 * rest of an upstream body is forwarded byte for byte.
 */

/** `usage` of a completion or of the final chunk, in tokens. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [key: string]: unknown;
}

/** One tool-call delta inside a chunk (`index` says which call it extends). */
export interface ToolCallDelta {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

/** One choice of a `chat.completion.chunk`. */
export interface ChunkChoice {
  index: number;
  delta: { role?: string; content?: string | null; tool_calls?: ToolCallDelta[]; [key: string]: unknown };
  finish_reason: string | null;
  [key: string]: unknown;
}

/** A `chat.completion.chunk` as sent in each SSE `data:` event. */
export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: ChunkChoice[];
  usage?: Usage | null;
  [key: string]: unknown;
}

/** An assistant message of a non-streaming completion. */
export interface AssistantMessage {
  role: "assistant";
  content: string | null;
  tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
  [key: string]: unknown;
}

/** A non-streaming `chat.completion`. */
export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: { index: number; message: AssistantMessage; finish_reason: string | null; [key: string]: unknown }[];
  usage?: Usage | null;
  [key: string]: unknown;
}

/** Seconds since the epoch, as OpenAI's `created` field. */
export function unixSeconds(ms: number = Date.now()): number {
  return Math.floor(ms / 1000);
}
