/**
 * The shapes of Ollama's native API that the `ollama` provider sends and
 * reads, as documented in docs/api.md of github.com/ollama/ollama
 * (https://github.com/ollama/ollama/blob/main/docs/api.md) and defined in
 * its api/types.go. Only the fields used here are typed. Example bodies
 * are kept in test/fixtures/protocols/ollama/.
 */

/** A tool call as Ollama sends and accepts it: `arguments` is an object, not a JSON string. */
export interface OllamaToolCall {
  /** Sent by newer servers (`call_…`); absent on older ones. */
  id?: string;
  type?: "function";
  function: { index?: number; name: string; arguments: Record<string, unknown> };
}

/** One message of `POST /api/chat`. */
export interface OllamaMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  /** Base64 image data, without a `data:` prefix. */
  images?: string[];
  tool_calls?: OllamaToolCall[];
  /** On `tool` messages: the name of the tool whose result this is. */
  tool_name?: string;
  /** Thinking models: the model's reasoning (answers only). */
  thinking?: string;
}

/** `options` of a request (Modelfile parameters). Unknown keys are passed on as given. */
export interface OllamaOptions {
  /** Context window to load the model with, in tokens. */
  num_ctx: number;
  /** Tokens to generate at most. */
  num_predict?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  repeat_penalty?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  stop?: string[];
  [key: string]: unknown;
}

/** Body of `POST /api/chat`. */
export interface OllamaChatRequest {
  model: string;
  messages: OllamaMessage[];
  stream: boolean;
  options: OllamaOptions;
  tools?: unknown[];
  /** `"json"` or a JSON schema. */
  format?: unknown;
  /** Thinking models: separate the reasoning into `message.thinking` (true), suppress it (false), or a level (`low`, `medium`, `high`). */
  think?: boolean | string;
  [key: string]: unknown;
}

/** Body of `POST /api/generate` in raw mode. */
export interface OllamaGenerateRequest {
  model: string;
  prompt: string;
  raw: true;
  stream: boolean;
  options: OllamaOptions;
  [key: string]: unknown;
}

/** Token counts and timings of the last object of an answer (`omitempty`: absent when 0). Durations in ns. */
export interface OllamaMetrics {
  prompt_eval_count?: number;
  eval_count?: number;
  total_duration?: number;
  load_duration?: number;
  prompt_eval_duration?: number;
  eval_duration?: number;
}

/** One object of an `/api/chat` answer (a stream line, or the whole answer when `stream` is false). */
export interface OllamaChatResponse extends OllamaMetrics {
  model?: string;
  created_at?: string;
  message?: OllamaMessage;
  done: boolean;
  /** `stop`, `length`, `load`, `unload`; on the last object only. */
  done_reason?: string;
}

/** One object of an `/api/generate` answer. */
export interface OllamaGenerateResponse extends OllamaMetrics {
  model?: string;
  created_at?: string;
  response?: string;
  done: boolean;
  done_reason?: string;
}

/** The answer of `POST /api/show` (fields used here). */
export interface OllamaShowResponse {
  /** `PARAMETER` lines of the Modelfile, e.g. `num_ctx                        4096`. */
  parameters?: string;
  /** The prompt template: a Go template, or (newer servers, models run natively) the GGUF Jinja `chat_template`. */
  template?: string;
  /** GGUF metadata; `<general.architecture>.context_length` is the trained context. The server deletes `tokenizer.chat_template` from it. */
  model_info?: Record<string, unknown>;
  details?: { family?: string };
}

/** The answer of `GET /api/tags`. */
export interface OllamaTagsResponse {
  models?: { name?: string; model?: string }[];
}

/** An error body, or an error line inside a stream: `{"error": "…"}`. */
export interface OllamaErrorLine {
  error: string;
}
