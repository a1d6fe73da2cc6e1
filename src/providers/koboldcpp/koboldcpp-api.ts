/**
 * The parts of KoboldCpp's KoboldAI-style API this provider uses, as zod
 * schemas of only the fields read. Follows koboldcpp.py of KoboldCpp 1.76
 * (LostRuins/koboldcpp 2da346a5, the build captured in
 * ../shared/fixtures/protocols/koboldcpp.txt).
 */
import { z } from "zod";

/**
 * KoboldCpp's `finish_reason`: `"length"` or `"stop"` when generation
 * ended; while a stream runs, the STRING `"null"` (not JSON null).
 * KoboldCpp 1.76 reports `"stop"` only for EOS: a stop sequence gives `"length"`
 * (its `/api/extra/perf` then says `stop_reason: 2`), which the backend corrects.
 */
const finishReasonSchema = z.string().nullable().optional();

/** `POST /api/v1/generate` answer: `{"results": [{"text", "finish_reason"}]}`. */
export const generateResultSchema = z.looseObject({
  results: z.array(z.looseObject({ text: z.string(), finish_reason: finishReasonSchema })).min(1),
});

/** One `event: message` of `POST /api/extra/generate/stream`: `{"token", "finish_reason"}`. */
export const streamEventSchema = z.looseObject({ token: z.string().default(""), finish_reason: finishReasonSchema });

/** One stream event. */
export type KoboldStreamEvent = z.infer<typeof streamEventSchema>;

/** `GET /api/extra/true_max_context_length` and `GET /api/v1/config/max_context_length`: `{"value": tokens}`. */
export const valueSchema = z.looseObject({ value: z.number().int() });

/**
 * `GET /api/extra/perf`: counters of the server's last generation; only
 * `stop_reason` is read. koboldcpp.py reports the adapter's `stop_reason`
 * enum: -1 invalid (none yet), 0 out of tokens (`max_length`), 1 EOS token,
 * 2 a stop sequence ("custom stopper"). KoboldCpp generates one request at a
 * time, so right after a generation ends it describes that generation.
 */
export const perfSchema = z.looseObject({ stop_reason: z.number().int() });

/** `stop_reason` of {@link perfSchema}: generation ended on a stop sequence. */
export const STOP_REASON_CUSTOM_STOPPER = 2;
/** `stop_reason` of {@link perfSchema}: generation ended on the EOS token. */
export const STOP_REASON_EOS = 1;

/** `POST /api/extra/tokencount`: `{"value": count, "ids": [...]}`. */
export const tokenCountSchema = z.looseObject({ value: z.number().int().nonnegative() });

/**
 * The generate body (the same for both endpoints). Sampling keys are left
 * out when the client set none, so KoboldCpp's defaults apply.
 */
export interface KoboldGenerateBody {
  prompt: string;
  /** Tokens to generate at most (`max_tokens`). */
  max_length?: number;
  /** The context window; KoboldCpp otherwise uses its own (possibly smaller) setting and cuts the prompt's start. */
  max_context_length?: number;
  /** Stop strings (KoboldCpp ignores a key named `stop`). */
  stop_sequence: string[];
  /** Cut the stop string out of the answer (KoboldCpp keeps it by default). */
  trim_stop: true;
  rep_pen?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  presence_penalty?: number;
  sampler_seed?: number;
  /** A GBNF grammar the answer must follow (`raw/gbnf.ts`). */
  grammar?: string;
  [key: string]: unknown;
}
