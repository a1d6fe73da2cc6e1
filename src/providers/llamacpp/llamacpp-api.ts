/**
 * The parts of llama.cpp `llama-server`'s native API this provider uses,
 * as zod schemas of only the fields read. Follows the server's README
 * (tools/server/README.md, "POST /completion", "GET /props",
 * "POST /tokenize", "GET /health") and the responses captured from build
 * b4747 in ../shared/fixtures/protocols/llama-server.txt.
 */
import { z } from "zod";

/**
 * `llama-server`'s performance counters of one completion (ms and tokens),
 * kept for the debug log.
 */
export const timingsSchema = z.looseObject({
  prompt_n: z.number().optional(),
  prompt_ms: z.number().optional(),
  predicted_n: z.number().optional(),
  predicted_ms: z.number().optional(),
  predicted_per_second: z.number().optional(),
});

/** Timings of one completion. */
export type LlamaCppTimings = z.infer<typeof timingsSchema>;

/**
 * A `POST /completion` answer, or one event of its SSE stream. Every event
 * carries `content` (the new text) and `stop`; the last one (`stop: true`)
 * adds the counts, `timings` and why generation ended: `stop_type`
 * (`eos` | `word` | `limit` | `none`, builds since late 2024) or the older
 * booleans `stopped_eos` / `stopped_word` / `stopped_limit`.
 */
export const completionEventSchema = z.looseObject({
  content: z.string().default(""),
  stop: z.boolean().default(false),
  /** Tokens of the prompt, BOS and cached tokens included. */
  tokens_evaluated: z.number().int().nonnegative().optional(),
  /** Tokens generated. */
  tokens_predicted: z.number().int().nonnegative().optional(),
  stop_type: z.string().optional(),
  stopped_eos: z.boolean().optional(),
  stopped_word: z.boolean().optional(),
  stopped_limit: z.boolean().optional(),
  timings: timingsSchema.optional(),
  /** Newer builds report a failure inside the stream as `data: {"error": …}`. */
  error: z.unknown().optional(),
});

/** One `/completion` answer or stream event. */
export type LlamaCppCompletionEvent = z.infer<typeof completionEventSchema>;

/** A whole (non-streaming) `/completion` answer: an event that must carry its `content`. */
export const completionAnswerSchema = completionEventSchema.extend({ content: z.string() });

/** `GET /props`: the slot settings (with `n_ctx`) and the model's chat template. */
export const propsSchema = z.looseObject({
  default_generation_settings: z.looseObject({ n_ctx: z.number().int().positive().optional() }).optional(),
  /** Top-level in some builds. */
  n_ctx: z.number().int().positive().optional(),
  chat_template: z.string().optional(),
  /** BOS and EOS token text (builds since early 2025). */
  bos_token: z.string().optional(),
  eos_token: z.string().optional(),
});

/** The `/props` fields read. */
export type LlamaCppProps = z.infer<typeof propsSchema>;

/** `POST /tokenize` answer: `{"tokens": [ids]}` (or `{id, piece}` objects with `with_pieces`). */
export const tokenizeSchema = z.looseObject({ tokens: z.array(z.unknown()) });

/**
 * The `POST /completion` request body. Sampling keys are left out when
 * the client set none, so the server's defaults apply.
 */
export interface LlamaCppCompletionBody {
  prompt: string;
  stream: boolean;
  /** Tokens to generate at most (the client's `max_tokens`). */
  n_predict?: number;
  /** Stop strings: the client's, then the prompt format's. */
  stop: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  repeat_penalty?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  /** Reuse the KV cache of the previous prompt's common prefix (chat history). */
  cache_prompt: true;
  /** A JSON schema the answer must match (llama-server builds the grammar from it). */
  json_schema?: Record<string, unknown>;
  [key: string]: unknown;
}
