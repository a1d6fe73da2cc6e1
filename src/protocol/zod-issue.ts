/**
 * The one reading of a zod validation failure: zod's first issue as every inbound protocol needs it to write a
 * 400 in its own wording (the field's path, whether the field is missing, zod's message). The wording and the
 * error codes stay with each protocol.
 *
 * "Missing" is read from the input, not from zod's message: zod 4 reports an absent key as `invalid_type` with
 * "Invalid input: expected string, received undefined" only when the field's schema is a type (string, number,
 * object, array, …). An absent enum or literal field is `invalid_value` ("Invalid option: expected one of …"), an
 * absent union `invalid_union` ("Invalid input"), a custom error map replaces the message, and zod 4's issues carry
 * no `received` field (https://zod.dev/v4/changelog, "Changes to issue formats"; https://zod.dev/error-customization).
 * So a field is missing when its path leads to nothing in the input, at any depth.
 */
import type { ZodError, ZodType } from "zod";
import { invalidRequest, type RelayError } from "./errors.js";
import { isJsonObject } from "./json-object.js";

/** What a 400 needs from zod's first issue. */
export interface ZodIssueReading {
  /** The offending field's path as zod gives it: object keys and array indexes (`["messages", 2, "role"]`); empty for the input itself. */
  readonly path: readonly PropertyKey[];
  /** The path joined with dots (`messages.2.role`), OpenAI's `param`; `""` for the input itself. */
  readonly param: string;
  /** The field is absent from the input (no own property at its path, or a parent on the path is absent). */
  readonly missing: boolean;
  /** zod's own message for the issue (its default, or the schema's custom `error`). */
  readonly message: string;
}

/**
 * Reads the first issue of a failed `safeParse`.
 * @param error the failure's `ZodError`
 * @param input the value that was parsed (the request body, or the part of it that was checked), to tell a missing
 *   field from a wrong one
 * @returns the reading, or `undefined` when the error holds no issue (zod never fails without one)
 */
export function readZodIssue(error: ZodError, input: unknown): ZodIssueReading | undefined {
  const issue = error.issues[0];
  if (!issue) return undefined;
  return {
    path: issue.path,
    param: issue.path.map(String).join("."),
    missing: issue.path.length > 0 && valueAt(input, issue.path) === undefined,
    message: issue.message,
  };
}

/**
 * `input` as `schema` reads it, or the 400 `reject` words for zod's first issue (each protocol its own way).
 * @throws RelayError from `reject`; 400 "Invalid request body." for a failure without an issue (zod never gives one)
 */
export function parseOrReject<T>(
  schema: ZodType<T>,
  input: unknown,
  reject: (issue: ZodIssueReading) => RelayError,
): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = readZodIssue(result.error, input);
  throw issue ? reject(issue) : invalidRequest("Invalid request body.");
}

/**
 * A request body as `schema` reads it: {@link parseOrReject}, after a 400 saying `notObject` for a body that is not
 * a JSON object.
 * @throws RelayError 400
 */
export function parseRequestBody<T>(
  schema: ZodType<T>,
  body: unknown,
  notObject: string,
  reject: (issue: ZodIssueReading) => RelayError,
): T {
  if (!isJsonObject(body)) throw invalidRequest(notObject);
  return parseOrReject(schema, body, reject);
}

/**
 * OpenAI's wording of a bad field (Chat Completions, Embeddings, Responses, legacy completions):
 * `Missing required parameter: 'x'.` (`missing_required_parameter`) or `Invalid value for 'x': …` (`invalid_value`).
 * @param param the field as the protocol names it (default: the issue's dotted path)
 */
export function openAIFieldError(issue: ZodIssueReading, param: string = issue.param): RelayError {
  if (issue.missing) {
    return invalidRequest(`Missing required parameter: '${param}'.`, param, "missing_required_parameter");
  }
  return invalidRequest(`Invalid value for '${param}': ${issue.message}`, param, "invalid_value");
}

/** The value at `path` inside `input` through own properties only (`undefined` when any step is absent). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
