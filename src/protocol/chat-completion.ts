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

/**
 * The reasoning fields of a message or delta, as the upstreams that
 * separate a model's reasoning from its answer send them (OpenAI's API has
 * none): `reasoning_content` (llama-server's `--reasoning-format`,
 * https://github.com/ggml-org/llama.cpp/tree/master/tools/server; DeepSeek,
 * https://api-docs.deepseek.com/guides/reasoning_model; vLLM) and
 * `reasoning` (OpenRouter, https://openrouter.ai/docs/use-cases/reasoning-tokens;
 * newer vLLM sends both with the same text). The proxy's translating
 * providers (Ollama, Anthropic) send `reasoning_content`.
 */
export interface ReasoningFields {
  reasoning_content?: string | null;
  reasoning?: string | null;
}

/** One choice of a `chat.completion.chunk`. */
export interface ChunkChoice {
  index: number;
  delta: {
    role?: string;
    content?: string | null;
    tool_calls?: ToolCallDelta[];
    [key: string]: unknown;
  } & ReasoningFields;
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
export interface AssistantMessage extends ReasoningFields {
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

/**
 * The reasoning text of one message or delta: `reasoning_content` when it
 * is a non-empty string, else `reasoning` when that is (never both: an
 * upstream that sends both sends the same text twice); null otherwise.
 */
export function reasoningText(fields: ReasoningFields | null | undefined): string | null {
  if (!fields) return null;
  const { reasoning_content: content, reasoning } = fields;
  if (typeof content === "string" && content !== "") return content;
  return typeof reasoning === "string" && reasoning !== "" ? reasoning : null;
}

/** Seconds since the epoch, as OpenAI's `created` field. */
export function unixSeconds(ms: number = Date.now()): number {
  return Math.floor(ms / 1000);
}
