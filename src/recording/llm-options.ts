/**
 * The `options_json` of a record: the options llm's OpenAI chat model
 * accepts, derived from a Chat Completions request body, serialised as llm
 * serialises them.
 *
 * `llm -c`/`--cid` rebuilds a conversation with `model.Options(**json.loads
 * (options_json))`, a pydantic model with `extra="forbid"`: any other key, or
 * a value of another type, and llm fails with a `ValidationError`. The
 * fields (llm 0.31.1 and 0.32, `llm/default_plugins/openai_models.py`:
 * `SharedOptions` plus `build_options_class()` of the `Chat` model), in
 * their declaration order, which is the order llm writes them in:
 *
 * | field | type | bounds |
 * |---|---|---|
 * | `temperature` | float | 0..2 |
 * | `max_tokens` | int | |
 * | `top_p` | float | 0..1 |
 * | `frequency_penalty` | float | -2..2 |
 * | `presence_penalty` | float | -2..2 |
 * | `stop` | str | |
 * | `logit_bias` | dict or JSON string → `{int: int}`, values -100..100 | |
 * | `seed` | int | |
 * | `json_object` | bool | |
 * | `image_detail` | `low`/`high`/`auto` (no request-body counterpart: never derived) | |
 *
 * Everything else in the request (tools, `n`, `metadata`, a `stop` list of
 * several strings…) stays in `prompt_json` only.
 */
import { pythonFloat, pythonJson } from "./message-hash.js";

/** The options of llm's OpenAI chat model, with the types llm accepts (a type alias, so it is a `Record<string, unknown>`). */
export type LlmChatOptions = {
  /** Sampling temperature, a float in [0, 2]. */
  temperature?: number;
  /** Maximum number of tokens to generate, an integer (from `max_tokens`, else `max_completion_tokens`). */
  max_tokens?: number;
  /** Nucleus sampling mass, a float in [0, 1]. */
  top_p?: number;
  /** A float in [-2, 2]. */
  frequency_penalty?: number;
  /** A float in [-2, 2]. */
  presence_penalty?: number;
  /** One stop string (a request's one-element `stop` list becomes its element). */
  stop?: string;
  /** Token id (decimal integer string) → bias, an integer in [-100, 100]. */
  logit_bias?: Record<string, number>;
  /** Integer seed. */
  seed?: number;
  /** `true` when the request asked for `response_format: {type: "json_object"}`. */
  json_object?: boolean;
};

const FLOAT_FIELDS = {
  temperature: [0, 2],
  top_p: [0, 1],
  frequency_penalty: [-2, 2],
  presence_penalty: [-2, 2],
} as const satisfies Partial<Record<keyof LlmChatOptions, readonly [number, number]>>;

/** llm's field order (pydantic's declaration order, which `dict(options)` follows). */
const FIELD_ORDER: readonly (keyof LlmChatOptions)[] = [
  "temperature",
  "max_tokens",
  "top_p",
  "frequency_penalty",
  "presence_penalty",
  "stop",
  "logit_bias",
  "seed",
  "json_object",
];

function floatIn(value: unknown, [lo, hi]: readonly [number, number]): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= lo && value <= hi ? value : undefined;
}

function int(value: unknown): number | undefined {
  // pydantic's lax int takes a float only when it has no fractional part.
  return typeof value === "number" && Number.isSafeInteger(value) ? value : undefined;
}

function stopString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === "string") return value[0];
  return undefined;
}

/** llm's `validate_logit_bias`: every key an integer, every value `int(value)` in [-100, 100], or the whole option is refused. */
function logitBias(value: unknown): Record<string, number> | undefined {
  let parsed = value;
  if (typeof parsed === "string") {
    try {
      parsed = JSON.parse(parsed) as unknown;
    } catch {
      return undefined;
    }
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return undefined;
  const out: Record<string, number> = {};
  for (const [key, raw] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^\s*[+-]?\d+\s*$/.test(key)) return undefined;
    const bias = typeof raw === "number" && Number.isFinite(raw) ? Math.trunc(raw) : undefined;
    if (bias === undefined || bias < -100 || bias > 100) return undefined;
    out[BigInt(key.trim()).toString()] = bias === 0 ? 0 : bias;
  }
  return out;
}

function jsonObject(body: Readonly<Record<string, unknown>>): boolean | undefined {
  if (typeof body.json_object === "boolean") return body.json_object;
  const format = body.response_format;
  if (format !== null && typeof format === "object" && (format as { type?: unknown }).type === "json_object")
    return true;
  return undefined;
}

/**
 * The options llm's OpenAI chat model would accept for a request: the
 * fields llm knows, mapped (`max_completion_tokens` → `max_tokens`,
 * `response_format: {type: "json_object"}` → `json_object: true`, a
 * one-element `stop` list → its string), each kept only when llm's
 * validation would take its value; every other key is dropped.
 * Idempotent: derived options give themselves back.
 * @param body a Chat Completions request body (or options already derived)
 * @returns the options, keys in llm's field order; `{}` when none apply
 */
export function llmChatOptions(body: Readonly<Record<string, unknown>>): LlmChatOptions {
  const derived: LlmChatOptions = {
    temperature: floatIn(body.temperature, FLOAT_FIELDS.temperature),
    max_tokens: int(body.max_tokens) ?? int(body.max_completion_tokens),
    top_p: floatIn(body.top_p, FLOAT_FIELDS.top_p),
    frequency_penalty: floatIn(body.frequency_penalty, FLOAT_FIELDS.frequency_penalty),
    presence_penalty: floatIn(body.presence_penalty, FLOAT_FIELDS.presence_penalty),
    stop: stopString(body.stop),
    logit_bias: logitBias(body.logit_bias),
    seed: int(body.seed),
    json_object: jsonObject(body),
  };
  const out: LlmChatOptions = {};
  for (const key of FIELD_ORDER) {
    const value = derived[key];
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/**
 * Which table an `options_json` is for: llm 0.32 writes `turns.options_json`
 * with plain `json.dumps` (non-ASCII escaped as `\uXXXX`); llm 0.31.1 hands
 * the dict to sqlite-utils for `responses.options_json`, which dumps it with
 * `ensure_ascii=False` (non-ASCII kept as is).
 */
export type OptionsTable = "turns" | "responses";

/**
 * `options_json` as llm writes it: `json.dumps` of the options (`, ` and
 * `: ` separators), float fields as Python floats (`0` → `0.0`), keys in
 * llm's field order, non-ASCII escaped for `turns` only (see
 * {@link OptionsTable}). Keys llm would refuse are dropped first (see
 * {@link llmChatOptions}).
 * @param options derived options (a request body gives the same result)
 * @param table the table the text is for
 * @returns the JSON text; `"{}"` when there are no options (llm writes `{}` in `responses`, NULL in `turns`: the caller's choice)
 */
export function llmOptionsJson(options: Readonly<Record<string, unknown>>, table: OptionsTable): string {
  const dumps = (value: unknown): string =>
    pythonJson(value, { sortKeys: false, ensureAscii: table === "turns", compact: false });
  const entries = Object.entries(llmChatOptions(options)).map(([key, value]) => {
    const text = key in FLOAT_FIELDS ? pythonFloat(value as number) : dumps(value);
    return `${dumps(key)}: ${text}`;
  });
  return `{${entries.join(", ")}}`;
}
