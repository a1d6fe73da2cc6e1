/**
 * The request id every answer carries as `x-request-id`: the client's own
 * when it sent a usable one, else a new `req_<ulid>` (time-ordered). Used by Fastify's
 * `genReqId` and by the answers written before (or without) Fastify's request
 * cycle: client errors on the socket and refused `Expect` headers.
 */
import type { IncomingHttpHeaders } from "node:http";
import { ulidAt } from "../recording/ulid.js";

/** Longest client `x-request-id` kept, in characters; a longer one is replaced. */
export const MAX_REQUEST_ID_LENGTH = 200;

/**
 * The client's `x-request-id` when it is 1–200 visible ASCII characters, else a new id.
 * @param headers the request's headers, or undefined when none could be parsed
 */
export function requestIdOf(headers: IncomingHttpHeaders | undefined): string {
  const header = headers?.["x-request-id"];
  if (
    typeof header === "string" &&
    header.length > 0 &&
    header.length <= MAX_REQUEST_ID_LENGTH &&
    /^[\x21-\x7e]+$/.test(header)
  )
    return header;
  return newRequestId();
}

/**
 * A fresh id: `req_` + a lowercase ULID (26 characters: 48 bits of time in ms, 80 random bits; not from the
 * records' monotonic generator, whose ids must keep their own start times). Time-ordered on purpose: the usage ledger's idempotency keys are built from it (`request:<tenant>:<id>`),
 * and ordered keys go into their unique index at its right edge instead of dirtying a random page per row
 * (docs/PERFORMANCE.md: 27–33 against 15–17 µs per ledger row, commits included).
 */
export function newRequestId(): string {
  return `req_${ulidAt(Date.now())}`;
}
