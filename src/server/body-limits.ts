/**
 * Bounds on request bodies while they arrive, so slow or large uploads
 * cannot hold connections or memory without limit:
 *
 * - **time**: a body must arrive in full within `body_timeout_ms` of the
 *   request's headers, else the client gets 408 `request_timeout` (and the
 *   connection is closed); a body answered before it ended (413, 503, …) is
 *   read and dropped until then, and its connection closed if it is not done;
 * - **memory**: the bytes of every body being received or handled are
 *   counted (declared `content-length` up front, chunked bodies as they
 *   arrive) until its response ends or its connection closes; a request
 *   that would take the total past `max_body_mb_in_flight` gets 503
 *   `server_busy` with `Retry-After`. A request is always admitted while no
 *   other body is counted, so one body as large as `body_limit_mb` always fits.
 *
 * Both run in a `preParsing` hook that puts a guard between the request and
 * Fastify's body parser.
 */
import { errors } from "../protocol/error-codes.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { EventEmitter } from "node:events";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
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
  const bodyLimit = app.initialConfig.bodyLimit ?? Infinity;
  const bodies = new WeakMap<FastifyRequest, GuardedBody>();
  // An answer that goes out before its body ended keeps the connection open while the rest is drained (see GuardedBody).
  app.addHook("onSend", async (request, reply, payload) => {
    if (!request.raw.complete) bodies.get(request)?.answering(reply);
    return payload;
  });
  app.addHook("preParsing", async (request, reply, payload) => {
    if (!hasBody(request)) return payload;
    const declared = Number(request.headers["content-length"]);
    // A body over body_limit_mb is refused (413) before it is read: its bytes are not counted (its deadline still holds).
    const counted = !(declared > bodyLimit);
    let held = 0;
    const hold = (bytes: number): boolean => {
      if (!inFlight.take(bytes, held)) return false;
      held += bytes;
      return true;
    };
    const body = new GuardedBody(
      request.raw,
      reply.raw,
      limits,
      (received) => !counted || received <= held || hold(received - held),
    );
    bodies.set(request, body);
    // Answered, failed or cut off: the body's bytes are no longer held.
    reply.raw.once("close", () => {
      inFlight.release(held);
      held = 0;
      body.answered();
    });
    if (counted && declared > 0 && !hold(declared)) throw serverBusy(limits.maxBytesInFlight);
    return body;
  });
  return inFlight;
}

/** Whether the request announces a body (`content-length` > 0 or `transfer-encoding`). */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers["content-length"];
  return request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/**
 * One request body on its way in, as the payload the parser reads: it fails
 * with 408 (and the answer closes the connection) when the body has not ended
 * within `limits.timeoutMs`, and with 503 when `admit(bytesReceivedSoFar)`
 * says no. The source is let go of, never destroyed, on failure, so the error
 * can still be answered. When the answer goes out before the body ended
 * (413, 415, 503, …), the rest is read and dropped until the same deadline:
 * closing a connection with unread bytes resets it, and the client may then
 * lose the answer.
 *
 * Not a stream: Fastify's body reader (`rawBody` in fastify/lib/content-type-parser.js, the reader of every
 * `parseAs` parser) uses only `on`/`removeListener` for `data`, `end` and `error`, and `resume()`. The source's
 * chunks are passed on as they come, without the `Transform` and pipe this used to be (about 9 % of the
 * request path's instructions: docs/PERFORMANCE.md).
 */
class GuardedBody extends EventEmitter {
  private readonly timer: NodeJS.Timeout;
  /** Answered before the body ended: the rest is being read and dropped. */
  private draining = false;
  /** The deadline passed before the body ended. */
  private expired = false;
  /** The parser asked for the body (`resume`): the source's chunks flow to it. */
  private flowing = false;
  /** Failed or ended: nothing more is passed on. */
  private settled = false;
  /** A failure before the parser listened, told to it when it asks for the body. */
  private failure: Error | null = null;
  private received = 0;
  private readonly onData = (chunk: Buffer): void => {
    this.received += chunk.length;
    if (!this.admit(this.received)) {
      this.fail(serverBusy(this.limits.maxBytesInFlight));
      return;
    }
    this.emit("data", chunk);
  };
  private readonly onEnd = (): void => {
    clearTimeout(this.timer);
    if (this.settled) return;
    this.settled = true;
    this.letGo();
    this.emit("end");
  };
  // The client went away mid-body: the parser gets an error instead of waiting for the deadline.
  private readonly onError = (error: Error): void => this.fail(error);
  private readonly onAborted = (): void =>
    this.fail(new Error("The client closed the connection before its request body ended."));

  constructor(
    private readonly source: IncomingMessage,
    private readonly response: ServerResponse,
    private readonly limits: BodyLimits,
    private readonly admit: (received: number) => boolean,
  ) {
    super();
    this.timer = setTimeout(() => this.expire(limits.timeoutMs), limits.timeoutMs);
    source.once("end", this.onEnd);
    source.once("error", this.onError);
    source.once("aborted", this.onAborted);
  }

  /** Called by the parser once it listens: the source's chunks start flowing to it. */
  resume(): this {
    const failure = this.failure;
    if (failure) {
      this.failure = null;
      process.nextTick(() => this.emit("error", failure));
      return this;
    }
    if (this.flowing || this.settled) return this;
    this.flowing = true;
    this.source.on("data", this.onData);
    this.source.resume();
    return this;
  }

  /**
   * An answer is about to go out before the body ended (413, 415, 503, …). Fastify marks it
   * `Connection: close` (and Node closes after it any connection the client asked to close), with
   * the rest of the body unread, which resets the connection: the client, still sending, may never
   * read its answer. So the connection is kept open while the rest is drained, until the deadline.
   * A timed-out body still closes it.
   */
  answering(reply: FastifyReply): void {
    if (this.expired || reply.raw.headersSent) return;
    reply.removeHeader("connection");
    reply.raw.shouldKeepAlive = true;
  }

  /** The answer went out (or the connection closed). */
  answered(): void {
    this.settled = true;
    this.letGo();
    if (this.source.complete || this.source.destroyed) {
      clearTimeout(this.timer);
      return;
    }
    this.draining = true;
    // Drained to its end in time: the connection lives on, so the deadline must not close it later.
    this.source.once("end", () => clearTimeout(this.timer));
    this.source.resume();
  }

  private expire(timeoutMs: number): void {
    this.expired = true;
    if (this.draining) {
      if (!this.source.complete) this.source.socket?.destroy();
      return;
    }
    // The rest of this body is not waited for, so the connection cannot carry another request.
    if (!this.response.headersSent) this.response.setHeader("connection", "close");
    this.fail(bodyTimeout(timeoutMs));
  }

  /** Stops passing the source's chunks on (the source itself is left open). */
  private letGo(): void {
    this.source.removeListener("data", this.onData);
    this.source.removeListener("end", this.onEnd);
    this.source.removeListener("error", this.onError);
    this.source.removeListener("aborted", this.onAborted);
  }

  private fail(error: Error): void {
    clearTimeout(this.timer);
    if (this.settled) return;
    this.settled = true;
    this.letGo();
    // Stop the source flowing into nobody (a drain after the answer resumes it).
    this.source.pause();
    // The parser listens from the moment it reads the body; a failure before that waits for it (resume).
    if (this.listenerCount("error") > 0) this.emit("error", error);
    else this.failure = error;
  }
}

function bodyTimeout(timeoutMs: number): RelayError {
  return errors.requestTimeout(`The request body did not arrive within ${timeoutMs} ms (body_timeout_ms).`);
}

function serverBusy(maxBytes: number): RelayError {
  return errors.serverBusy(
    `The server is busy: request bodies in flight have reached their bound (${Math.round(maxBytes / (1024 * 1024))} MB, max_body_mb_in_flight). Retry shortly.`,
    { headers: { "retry-after": String(SERVER_BUSY_RETRY_AFTER_S) } },
  );
}
