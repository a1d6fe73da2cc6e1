/**
 * Reading a local backend's JSON answers against a schema of the fields a
 * provider uses, with one error for anything else it sends.
 */
import type { z } from "zod";
import { upstreamInvalidResponse, type RelayError } from "../../protocol/errors.js";

/**
 * 502 `upstream_invalid_response` quoting the start of what the server sent
 * (all of it kept for the record).
 * @param server the server's name in the message (`llama.cpp`, `KoboldCpp`, …)
 * @param origin the server's origin
 */
export function unexpectedAnswer(server: string, origin: string, text: string): RelayError {
  return upstreamInvalidResponse(`The ${server} server ${origin} sent an unexpected answer`, text);
}

/**
 * Parses one answer or SSE event against `schema`.
 * @param payload the parsed JSON body, or the raw text of an SSE `data:` field (parsed here)
 * @param server the server's name, for the error message
 * @param origin the server's origin, for the error message
 * @throws RelayError 502 `upstream_invalid_response` ({@link unexpectedAnswer}) when it is not JSON of the schema's shape
 */
export function parseAnswer<S extends z.ZodType>(
  schema: S,
  payload: unknown,
  server: string,
  origin: string,
): z.output<S> {
  let value = payload;
  if (typeof payload === "string") {
    try {
      value = JSON.parse(payload);
    } catch {
      value = undefined;
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw unexpectedAnswer(server, origin, typeof payload === "string" ? payload : JSON.stringify(payload));
  return parsed.data;
}
