/**
 * Bounds on request bodies while they arrive, so slow or large uploads
 * cannot hold connections or memory without limit:
 *
 * - **time**: a body must arrive in full within `body_timeout_ms` of the
 *   request's headers, else the client gets 408 `request_timeout` (and the
 *   connection is closed);
 * - **memory**: the bytes of every body being received or handled are
 *   counted (declared `content-length` up front, chunked bodies as they
 *   arrive) until its response ends or its connection closes; a request
 *   that would take the total past `max_body_mb_in_flight` gets 503
 *   `server_busy` with `Retry-After`. A request is always admitted while no
 *   other body is counted, so one body as large as `body_limit_mb` always fits.
 *
 * Both run in a `preParsing` hook that wraps the payload stream, before
 * Fastify's body parser reads it.
 */
import { Transform, type Readable, type TransformCallback } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { RelayError } from "../protocol/errors.js";

/** Default of `body_timeout_ms`: how long a request body may take to arrive, in ms. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;
/** Default of `max_body_mb_in_flight`: request-body megabytes held at once (see the README for why). */
export const DEFAULT_MAX_BODY_MB_IN_FLIGHT = 64;
/** {@link DEFAULT_MAX_BODY_MB_IN_FLIGHT} in bytes. */
export const DEFAULT_MAX_BODY_BYTES_IN_FLIGHT = DEFAULT_MAX_BODY_MB_IN_FLIGHT * 1024 * 1024;
/** `Retry-After` of a 503 `server_busy`, in s: bodies in flight are usually read and handled within it. */
export const SERVER_BUSY_RETRY_AFTER_S = 1;

/** The limits, as the server uses them. */
export interface BodyLimits {
  /** Time allowed for a whole body to arrive, from the request's headers, in ms. */
  timeoutMs: number;
  /** Request-body bytes held at once (received or being handled) before new requests get 503. */
  maxBytesInFlight: number;
}

/** The bytes of request bodies held right now, across every request of one server. */
export class BodyBytesInFlight {
  private used = 0;

  constructor(private readonly max: number) {}

  /** Bytes counted now. */
  get bytes(): number {
    return this.used;
  }

  /**
   * Counts `bytes` more for a request already holding `own` bytes.
   * @returns false (nothing counted) when that would pass the bound while other requests hold bytes
   */
  take(bytes: number, own: number): boolean {
    if (this.used - own > 0 && this.used + bytes > this.max) return false;
    this.used += bytes;
    return true;
  }

  /** Gives back `bytes` counted earlier. */
  release(bytes: number): void {
    this.used -= bytes;
  }
}

/**
 * Installs the `preParsing` hook on `app` (every route; requests without a body pass untouched).
 * @returns the counter, for metrics and tests
 */
export function installBodyLimits(app: FastifyInstance, limits: BodyLimits): BodyBytesInFlight {
  const inFlight = new BodyBytesInFlight(limits.maxBytesInFlight);
  app.addHook("preParsing", async (request, reply, payload) => {
    if (!hasBody(request)) return payload;
    const declared = Number(request.headers["content-length"]);
    // A body over body_limit_mb is refused (413) by the parser before it is read: nothing to count.
    if (Number.isFinite(declared) && declared > (app.initialConfig.bodyLimit ?? Infinity)) return payload;
    let held = 0;
    const hold = (bytes: number): boolean => {
      if (!inFlight.take(bytes, held)) return false;
      held += bytes;
      return true;
    };
    if (Number.isFinite(declared) && declared > 0 && !hold(declared)) throw serverBusy(limits.maxBytesInFlight);
    const guarded = guard(request.raw, limits, (received) => received <= held || hold(received - held));
    // Answered, failed or cut off: the body's bytes are no longer held (and an unread body's timer stops).
    reply.raw.once("close", () => {
      inFlight.release(held);
      guarded.destroy();
    });
    return guarded;
  });
  return inFlight;
}

/** Whether the request announces a body (`content-length` > 0 or `transfer-encoding`). */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers["content-length"];
  return request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/**
 * The body as a stream that fails with 408 when it has not ended within
 * `limits.timeoutMs`, and with 503 when `admit(bytesReceivedSoFar)` says no.
 * The source is unpiped (not destroyed) on failure, so the error can still be answered.
 */
function guard(source: Readable, limits: BodyLimits, admit: (received: number) => boolean): Transform {
  let received = 0;
  const guarded = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      received += chunk.length;
      if (!admit(received)) {
        callback(serverBusy(limits.maxBytesInFlight));
        return;
      }
      callback(null, chunk);
    },
  });
  const fail = (error: Error) => {
    clearTimeout(timer);
    source.unpipe(guarded);
    guarded.destroy(error);
  };
  const timer = setTimeout(() => fail(bodyTimeout(limits.timeoutMs)), limits.timeoutMs);
  source.once("end", () => clearTimeout(timer));
  // The client went away mid-body: the parser gets an error instead of waiting forever.
  source.once("error", fail);
  source.once("aborted", () => fail(new Error("The client closed the connection before its request body ended.")));
  guarded.once("error", () => {
    clearTimeout(timer);
    source.unpipe(guarded);
  });
  guarded.once("close", () => clearTimeout(timer));
  source.pipe(guarded);
  return guarded;
}

function bodyTimeout(timeoutMs: number): RelayError {
  return new RelayError({
    status: 408,
    message: `The request body did not arrive within ${timeoutMs} ms (body_timeout_ms).`,
    type: "invalid_request_error",
    code: "request_timeout",
    errorClass: "invalid_request",
  });
}

function serverBusy(maxBytes: number): RelayError {
  return new RelayError({
    status: 503,
    message: `The server is busy: request bodies in flight have reached their bound (${Math.round(maxBytes / (1024 * 1024))} MB, max_body_mb_in_flight). Retry shortly.`,
    type: "server_error",
    code: "server_busy",
    errorClass: "internal",
    headers: { "retry-after": String(SERVER_BUSY_RETRY_AFTER_S) },
  });
}
