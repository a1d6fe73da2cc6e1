/**
 * Turns a library call (messages + {@link CompletionOptions}) into a
 * validated Chat Completions request body: the `LLM_*` environment
 * defaults, argument checks, and the messages validated with the
 * server's own zod schema.
 */
import { z } from "zod";
import { chatMessageSchema, type ChatCompletionRequest } from "../protocol/chat-request.js";
import { invalidRequest, type RelayError } from "../protocol/errors.js";
import { readZodIssue } from "../protocol/zod-issue.js";
import type { CompletionOptions } from "./types.js";

/** Temperature when neither the call nor `LLM_TEMPERATURE` gives one. */
export const DEFAULT_TEMPERATURE = 0.7;
/** `max_tokens` when neither the call nor `LLM_MAX_TOKENS` gives one. */
export const DEFAULT_MAX_TOKENS = 500;
/** Model when neither the call, `LLM_MODEL_NAME` nor the config's `default_model` gives one. */
export const FALLBACK_MODEL = "echo";

/** The library's roles: the server's message schema, narrowed to system/user/assistant/tool. */
const libraryMessageSchema = chatMessageSchema.extend({ role: z.enum(["system", "user", "assistant", "tool"]) });
const messagesSchema = z.array(libraryMessageSchema).min(1, "at least one message is needed");

/** Body fields that `extra` may not replace. */
const RESERVED = new Set(["model", "messages", "stream", "stream_options"]);

/**
 * The request body of one call.
 * @param defaultModel the transport's default (the config's `default_model`), used when neither the call nor `LLM_MODEL_NAME` names one
 * @throws RelayError 400 for an invalid argument or a bad `LLM_*` variable (the message says which)
 */
export function buildRequestBody(
  messages: unknown,
  options: CompletionOptions | undefined,
  env: Record<string, string | undefined>,
  defaultModel: string | null,
  stream: boolean,
): ChatCompletionRequest {
  const opts = checkOptions(options);
  const model = opts.model ?? (env.LLM_MODEL_NAME || undefined) ?? defaultModel ?? FALLBACK_MODEL;
  // null: none sent (the upstream's own default); undefined: the LLM_* variable, else the library's default.
  const temperature =
    opts.temperature === null
      ? null
      : (opts.temperature ?? envNumber(env, "LLM_TEMPERATURE", DEFAULT_TEMPERATURE, false));
  const maxTokens =
    opts.maxTokens === null ? null : (opts.maxTokens ?? envNumber(env, "LLM_MAX_TOKENS", DEFAULT_MAX_TOKENS, true));
  const body: ChatCompletionRequest = { model, messages: validateMessages(messages) };
  for (const [key, value] of Object.entries(opts.extra ?? {})) {
    if (RESERVED.has(key)) throw invalid(`options.extra.${key} cannot be set (the library sets it)`, `extra.${key}`);
    if (value !== undefined) body[key] = value;
  }
  if (temperature !== null) body.temperature = temperature;
  if (maxTokens !== null) body.max_tokens = maxTokens;
  if (opts.topP !== undefined) body.top_p = opts.topP;
  if (opts.stop !== undefined) body.stop = opts.stop;
  if (opts.tenant !== undefined) body.user = opts.tenant;
  if (stream) body.stream = true;
  return body;
}

/** One user message from a prompt string. */
export function promptMessages(prompt: unknown): unknown {
  if (typeof prompt !== "string") throw invalid(`prompt must be a string, got ${describeValue(prompt)}`, "prompt");
  return [{ role: "user", content: prompt }];
}

/**
 * Validates messages with the server's schema (roles system/user/assistant/tool).
 * @throws RelayError 400 naming the field (`messages.1.role: …`)
 */
export function validateMessages(messages: unknown): ChatCompletionRequest["messages"] {
  if (!Array.isArray(messages))
    throw invalid(`messages must be an array of {role, content}, got ${describeValue(messages)}`, "messages");
  const result = messagesSchema.safeParse(messages);
  if (result.success) return result.data;
  const issue = readZodIssue(result.error, messages);
  const param = issue?.param ? `messages.${issue.param}` : "messages";
  throw invalid(`Invalid ${param}: ${issue?.message ?? "invalid value"}`, param);
}

function checkOptions(options: CompletionOptions | undefined): CompletionOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object") throw invalid(`options must be an object, got ${describeValue(options)}`, "options");
  const { model, temperature, maxTokens, topP, stop, timeoutMs, tenant, extra, signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw invalid("options.signal must be an AbortSignal", "signal");
  if (model !== undefined && (typeof model !== "string" || model.length === 0))
    throw invalid("options.model must be a non-empty string", "model");
  if (temperature !== undefined && temperature !== null && !isFiniteNumber(temperature))
    throw invalid(`options.temperature must be a number, got ${describeValue(temperature)}`, "temperature");
  if (maxTokens !== undefined && maxTokens !== null && !(Number.isInteger(maxTokens) && maxTokens > 0))
    throw invalid(`options.maxTokens must be a positive integer, got ${describeValue(maxTokens)}`, "maxTokens");
  if (topP !== undefined && !isFiniteNumber(topP))
    throw invalid(`options.topP must be a number, got ${describeValue(topP)}`, "topP");
  if (
    stop !== undefined &&
    typeof stop !== "string" &&
    !(Array.isArray(stop) && stop.every((s) => typeof s === "string"))
  ) {
    throw invalid("options.stop must be a string or an array of strings", "stop");
  }
  if (timeoutMs !== undefined && !(isFiniteNumber(timeoutMs) && timeoutMs > 0))
    throw invalid(`options.timeoutMs must be a positive number, got ${describeValue(timeoutMs)}`, "timeoutMs");
  if (tenant !== undefined && typeof tenant !== "string") throw invalid("options.tenant must be a string", "tenant");
  if (extra !== undefined && (extra === null || typeof extra !== "object" || Array.isArray(extra)))
    throw invalid("options.extra must be an object", "extra");
  return options;
}

/** A numeric `LLM_*` variable, or `fallback` when unset or empty. */
function envNumber(env: Record<string, string | undefined>, name: string, fallback: number, integer: boolean): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || (integer && !(Number.isInteger(value) && value > 0))) {
    throw invalid(`${name} must be ${integer ? "a positive integer" : "a number"}, got '${raw}'`, name);
  }
  return value;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return `'${value}'`;
  if (typeof value === "number" || typeof value === "boolean" || value == null) return String(value);
  return Array.isArray(value) ? "an array" : typeof value;
}

function invalid(message: string, param: string): RelayError {
  return invalidRequest(message, param, "invalid_argument");
}
