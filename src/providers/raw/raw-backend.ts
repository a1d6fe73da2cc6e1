/**
 * The interface a raw-completion backend implements (llama.cpp
 * `/completion`, KoboldCpp, text-generation-webui, Ollama `/api/generate`,
 * LM Studio legacy `/v1/completions`, in-process GGUF): it completes a
 * prompt string. {@link createRawCompletionProvider} turns one into a
 * chat provider (prompt format, context-window check, usage, chunks).
 */
import type { DiscoveredTemplate } from "../../prompt-formats/types.js";
import type { SamplingParams } from "./sampling.js";
import type { ChatCompletionRequest } from "../../protocol/chat-request.js";
import type { OutputConstraint } from "./constrained.js";

/** One raw completion request. */
export interface RawRequest {
  /** The rendered prompt. */
  prompt: string;
  params: SamplingParams;
  /** The client's body as routed (model = upstream model), for backend-specific extras. */
  body: ChatCompletionRequest;
  /** Aborted when the client leaves, the server stops, or the total timeout passes. */
  signal: AbortSignal;
  /** The exchange's request id, for correlation headers. */
  requestId: string;
  /**
   * What the backend is asked to emit (`constrained.ts`); set only for a backend that declares `constrainsOutput`,
   * which maps it to its own field (a JSON schema or grammar).
   */
  constraint?: OutputConstraint | null;
  /**
   * The text after the insertion point, for fill-in-the-middle (`prompt` is then the text before it); set only for
   * a backend that declares `fillsInTheMiddle` (llama.cpp `/infill`).
   */
  suffix?: string;
}

/** Why generation ended, in OpenAI terms. */
export type RawFinishReason = "stop" | "length";

/** Counts a backend reported, in tokens; null where it reported none. */
export interface RawCounts {
  promptTokens: number | null;
  completionTokens: number | null;
}

/** A whole raw completion. */
export interface RawResult extends RawCounts {
  text: string;
  finishReason: RawFinishReason;
}

/** One streamed piece: text, and on the last one the finish reason and counts. */
export interface RawDelta {
  text?: string;
  /** Set on the last delta only. */
  finishReason?: RawFinishReason;
  promptTokens?: number | null;
  completionTokens?: number | null;
}

/** What a backend may tell about its model. Every field is optional. */
export interface RawDiscovery {
  /** The model's context window, in tokens. */
  contextWindow?: number | null;
  /** The model's own chat template, for `prompt_format: auto`. */
  template?: DiscoveredTemplate | null;
}

/** A raw-completion backend. */
export interface RawBackend {
  /** A short name of the backend for messages (its origin, or the GGUF file). */
  readonly target: string;
  /**
   * Whether the backend adds the BOS token itself when it tokenizes the
   * prompt (llama.cpp, KoboldCpp, node-llama-cpp): then the prompt is
   * rendered without the BOS text.
   */
  readonly addsBos: boolean;
  /**
   * Whether the backend can constrain its output to a JSON schema
   * (`RawRequest.constraint`): llama-server `json_schema`, Ollama `format`,
   * node-llama-cpp's JSON-schema grammar, KoboldCpp / webui GBNF (`gbnf.ts`). Absent: the prompt alone.
   */
  readonly constrainsOutput?: boolean;
  /**
   * Whether the backend completes the middle between `prompt` and `RawRequest.suffix` (llama.cpp `/infill`,
   * with the model's own FIM tokens). Absent: no suffix is ever sent.
   */
  readonly fillsInTheMiddle?: boolean;
  /**
   * Learns the context window and chat template, once (the result is
   * cached by the caller). Discovery is best effort: resolve `{}` when the
   * backend answered without the facts; reject when it could not answer
   * now (loading, unreachable), so the caller uses `{}` for this call and
   * tries again on the next one.
   */
  discover?(signal: AbortSignal): Promise<RawDiscovery>;
  /**
   * Counts the prompt's tokens with the backend's tokenizer.
   * @returns the count, or null when the backend has no tokenizer endpoint (then the proxy estimates)
   */
  countTokens?(prompt: string, signal: AbortSignal): Promise<number | null>;
  /**
   * Completes the prompt in one answer.
   * @throws RelayError (502 unreachable, 504 timeout, upstream status for HTTP errors)
   */
  complete(request: RawRequest): Promise<RawResult>;
  /**
   * Completes the prompt as a stream of deltas; the last one carries the finish reason.
   * @throws RelayError as `complete`; a stream that ends without a finish reason is treated as truncated
   */
  stream(request: RawRequest): AsyncIterable<RawDelta>;
  /** Releases connections or the loaded model. */
  close?(): Promise<void>;
}
