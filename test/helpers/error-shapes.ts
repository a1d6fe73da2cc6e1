/**
 * The shapes an error answer must have, checked on a raw answer: OpenAI's
 * `{"error":{"message","type","param","code"}}` everywhere but `/internal/*`,
 * which answers the envelope (`errorEnvelopeSchema`), and `/v1/messages*`,
 * which answers Anthropic's `{"type":"error","error":{"type","message"}}`.
 * Each check returns what is wrong, or null, so a fuzz run can collect every
 * problem before failing.
 */
import { errorEnvelopeSchema } from "../../src/server/envelope-schemas.js";
import type { RawAnswer } from "./raw-http.js";

/** What is wrong with the body of an error answer to a request for `target` (path and query), or null. */
export function errorShapeProblem(
  target: string,
  answer: Pick<RawAnswer, "status" | "headers" | "body">,
): string | null {
  if (!(answer.headers["content-type"] ?? "").startsWith("application/json"))
    return `content-type is '${answer.headers["content-type"]}'`;
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return `body is not JSON: ${answer.body.slice(0, 120)}`;
  }
  if (target === "/internal" || target.startsWith("/internal/") || target.startsWith("/internal?")) {
    const result = errorEnvelopeSchema.safeParse(body);
    return result.success ? null : `not an error envelope: ${answer.body.slice(0, 200)}`;
  }
  if (target === "/v1/messages" || target.startsWith("/v1/messages/") || target.startsWith("/v1/messages?")) {
    // Anthropic's shape: {"type":"error","error":{"type","message"}} (https://docs.anthropic.com/en/api/errors).
    const b = body as { type?: unknown; error?: { type?: unknown; message?: unknown } } | null;
    if (!b || b.type !== "error" || typeof b.error?.type !== "string" || typeof b.error.message !== "string")
      return `not an Anthropic error body: ${answer.body.slice(0, 200)}`;
    return null;
  }
  if (body === null || typeof body !== "object" || Object.keys(body).join() !== "error")
    return `not an OpenAI error body: ${answer.body.slice(0, 200)}`;
  const error = (body as { error: unknown }).error;
  if (error === null || typeof error !== "object") return `error is not an object: ${answer.body.slice(0, 200)}`;
  const fields = error as Record<string, unknown>;
  if (Object.keys(fields).sort().join() !== "code,message,param,type")
    return `error has fields ${Object.keys(fields).join(",")}`;
  if (typeof fields.message !== "string" || typeof fields.type !== "string")
    return `error.message/type are not strings: ${answer.body.slice(0, 200)}`;
  if (
    !(fields.code === null || typeof fields.code === "string") ||
    !(fields.param === null || typeof fields.param === "string")
  )
    return "error.code/param are not string|null";
  return null;
}

/** The parsed error of an answer already checked by {@link errorShapeProblem}: OpenAI's `error`, or the envelope's. */
export function errorOf(answer: Pick<RawAnswer, "body">): { message: string; type: string; code: string | null } {
  return (JSON.parse(answer.body) as { error: { message: string; type: string; code: string | null } }).error;
}
