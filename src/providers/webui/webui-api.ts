/**
 * The parts of text-generation-webui's APIs this provider uses, as zod
 * schemas of only the fields read (shapes and sources in
 * test/fixtures/protocols/webui/README.md):
 * - its OpenAI-compatible API (`--api`, port 5000): `POST /v1/completions`
 *   and `POST /v1/internal/token-count` (modules/api/{script,completions,typing,tokens}.py);
 * - the legacy blocking API removed in November 2023
 *   (extensions/api/blocking_api.py and util.py): `POST /api/v1/generate`
 *   and `POST /api/v1/token-count`.
 */
import { z } from "zod";

/** OpenAI `usage`, which webui computes with the model's tokenizer. */
const usageSchema = z.looseObject({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
});

/** One choice: `text` and `finish_reason` (`"stop"` | `"length"`, null until the last chunk). */
const choiceSchema = z.looseObject({ text: z.string().default(""), finish_reason: z.string().nullable().optional() });

/**
 * A `/v1/completions` answer, or one chunk of its stream. The stream's last
 * text chunk carries `finish_reason`; `usage` rides on it (older builds) or
 * comes in a following chunk with `choices: []` (builds that honour
 * `stream_options.include_usage`).
 */
export const completionSchema = z.looseObject({
  choices: z.array(choiceSchema).default([]),
  usage: usageSchema.nullable().optional(),
});

/** One `/v1/completions` answer or stream chunk. */
export type WebuiCompletion = z.infer<typeof completionSchema>;

/** `POST /v1/internal/token-count` answer: `{"length": tokens}`. */
export const tokenCountSchema = z.looseObject({ length: z.number().int().nonnegative() });

/** Legacy `POST /api/v1/generate` answer: `{"results": [{"text"}]}`. */
export const legacyGenerateSchema = z.looseObject({ results: z.array(z.looseObject({ text: z.string() })).min(1) });

/** Legacy `POST /api/v1/token-count` answer: `{"results": [{"tokens": count}]}`. */
export const legacyTokenCountSchema = z.looseObject({
  results: z.array(z.looseObject({ tokens: z.number().int().nonnegative() })).min(1),
});

/** Sampling keys both APIs share (webui's `GenerationOptions` names). */
export interface WebuiSampling {
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  /** From the client's `repeat_penalty`. */
  repetition_penalty?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  /** The context window: webui cuts longer prompts at their start, to its own default when unset. */
  truncation_length?: number;
  /** Let webui grow the answer to the free context when the client set no `max_tokens`. */
  auto_max_new_tokens?: boolean;
}

/** The `POST /v1/completions` body. */
export interface WebuiCompletionsBody extends WebuiSampling {
  prompt: string;
  /** Always sent: older builds default to 16. */
  max_tokens: number;
  /** Stop strings (webui's `custom_stopping_strings`). */
  stop: string[];
  stream: boolean;
  stream_options?: { include_usage: true };
  /** A GBNF grammar the answer must follow (`raw/gbnf.ts`). */
  grammar_string?: string;
  [key: string]: unknown;
}

/** The legacy `POST /api/v1/generate` body. */
export interface WebuiLegacyBody extends WebuiSampling {
  prompt: string;
  /** Always sent: the legacy default is 200. */
  max_new_tokens: number;
  /** Stop strings under the legacy API's own key. */
  stopping_strings: string[];
  /** A GBNF grammar the answer must follow (`raw/gbnf.ts`). */
  grammar_string?: string;
  [key: string]: unknown;
}
