/**
 * `Idempotency-Key` on POST routes (`/v1/chat/completions`,
 * `/v1/embeddings`), after the IETF draft "The Idempotency-Key HTTP Header
 * Field" (draft-ietf-httpapi-idempotency-key-header) and Stripe's API:
 *
 * - no header: the route runs as before; nothing here touches the store;
 * - a key over {@link MAX_IDEMPOTENCY_KEY_LENGTH} characters (or empty): 400 `invalid_idempotency_key`;
 * - first use of a key (per tenant): the request runs; a complete successful
 *   answer (2xx body, or a stream that ended with `[DONE]`) is stored before
 *   its last byte leaves, so a retry that follows the answer always finds it;
 *   any other answer (an error, a truncated or cancelled stream) releases the
 *   key, so the client may retry and the request runs again;
 * - same key while the first request runs: 409 `idempotency_in_progress`, `Retry-After: 1`;
 * - same key and same request after it answered (within `idempotency_ttl_ms`,
 *   default 24 h): the stored answer, replayed without calling the upstream
 *   (a JSON body byte for byte, a stream as the same SSE events and
 *   `[DONE]`), with `x-llm-relay-idempotent-replay: true`; a replay is logged
 *   but not recorded again (it would duplicate the conversation in llm's tables);
 * - same key, another request (method, path or body): 422 `idempotency_key_reused`.
 *
 * The store ({@link IdempotencyStore}) claims a key atomically across
 * instances (SQLite file lock, PostgreSQL row), so two proxies on one
 * database receiving the same key at once make one upstream call.
 */
import { errors } from "../protocol/error-codes.js";
import type { FastifyReply, FastifyRequest, onSendHookHandler, RouteHandlerMethod } from "fastify";
import type { Logger } from "pino";
import { ATTEMPTS_HEADER, DEPLOYMENT_HEADER } from "../exchange/exchange.js";
import { RelayError } from "../protocol/errors.js";
import { DEFAULT_IDEMPOTENCY_TTL_MS, requestFingerprint } from "../tenancy/idempotency.js";
import type { IdempotencyStore } from "../tenancy/store.js";
import { DEFAULT_TENANT, type IdempotencyTarget, type StoredResponse } from "../tenancy/types.js";
import type { ServerContext } from "./context.js";
import type { StreamObserver } from "./stream-response.js";

/** The request header (case-insensitive; Node lowercases it). */
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";
/** Response header marking an answer replayed from the store. */
export const REPLAY_HEADER = "x-llm-relay-idempotent-replay";
/** Longest key accepted, in characters (Stripe's limit). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Content type of a replayed stream (what `stream-response.ts` sends). */
const SSE_CONTENT_TYPE = "text/event-stream; charset=utf-8";

/** What the idempotency flow reads from the server: the records (`tenancy.idempotency`), `config.idempotencyTtlMs` (default 24 h) and the logger. */
export type IdempotencyContext = Pick<ServerContext, "tenancy" | "config" | "logger">;

/**
 * A route handler that may own an idempotency key: `claim` is null when the
 * request carries no `Idempotency-Key`. A streaming handler passes
 * `claim.stream` to `streamToClient`; whole answers are caught by the
 * route's `onSend` hook.
 */
export type IdempotentHandler = (
  request: FastifyRequest,
  reply: FastifyReply,
  claim: IdempotencyClaim | null,
) => Promise<void>;

/** A handler and the `onSend` hook to register with it (`app.post(path, { onSend }, handler)`). */
export interface IdempotentRoute {
  handler: RouteHandlerMethod;
  onSend: onSendHookHandler;
}

/** The claims of requests in flight, for the `onSend` hook. */
const claims = new WeakMap<FastifyRequest, IdempotencyClaim>();

/**
 * Wraps a POST route's handler with the `Idempotency-Key` flow (see the
 * module comment). Requests without the header go straight to `handler`.
 * Errors (thrown, answered by the server's error handler as OpenAI bodies):
 * 400 `invalid_idempotency_key`, 409 `idempotency_in_progress` (with
 * `Retry-After: 1`), 422 `idempotency_key_reused`, 503
 * `idempotency_unavailable` when the store cannot be read.
 */
export function idempotentRoute(ctx: IdempotencyContext, handler: IdempotentHandler): IdempotentRoute {
  return {
    handler: async function idempotentHandler(request, reply) {
      const header = request.headers[IDEMPOTENCY_KEY_HEADER];
      if (header === undefined) return handler(request, reply, null);
      const store = ctx.tenancy.idempotency;
      const logger = ctx.logger;
      const target: IdempotencyTarget = {
        tenant: tenantOf(request),
        key: checkKey(header),
        fingerprint: requestFingerprint(
          request.method,
          // The URL as requested, not the route's pattern: Gemini's `/v1beta/models/*` holds the model, method and `alt`.
          request.url,
          sortedKeysJson(request.body),
        ),
      };
      let begun;
      try {
        begun = await store.begin(target, { ttlMs: ctx.config.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS });
      } catch (error) {
        logger.error({ id: request.id, err: error }, "idempotency store failed");
        throw unavailable((error as Error).message);
      }
      if (begun.outcome === "in_progress") throw inProgress();
      if (begun.outcome === "mismatch") throw keyReused();
      if (begun.outcome === "done") {
        const response = begun.record.response;
        if (!response) throw unavailable("the stored answer is missing");
        logger.info(
          {
            id: request.id,
            tenant: target.tenant,
            idempotencyKey: target.key,
            url: request.url,
            status: response.status,
            firstAnsweredAt: begun.record.completedAt,
          },
          "idempotent replay",
        );
        request.relayLogged = true;
        return replay(reply, response);
      }
      const claim = new IdempotencyClaim(store, target, logger, request.id, () => answerHeaders(reply));
      claims.set(request, claim);
      // Last resort: a request that ends without an answer the hooks saw (client gone) frees its key.
      reply.raw.once("close", () => void claim.release());
      await handler(request, reply, claim);
      // The answer waits in the async onSend hook while it is stored: returning the reply (a thenable that
      // settles once the response is sent) tells Fastify it was sent, so that it does not send an empty one.
      return reply;
    },
    onSend(request, reply, payload, done) {
      const claim = claims.get(request);
      if (!claim) {
        done(null, payload);
        return;
      }
      claims.delete(request);
      const contentType = reply.getHeader("content-type");
      const body = typeof payload === "string" ? payload : Buffer.isBuffer(payload) ? payload.toString("utf8") : null;
      const headers = {
        ...answerHeaders(reply),
        ...(typeof contentType === "string" ? { "content-type": contentType } : {}),
      };
      const settled =
        body !== null && reply.statusCode >= 200 && reply.statusCode < 300
          ? claim.keep({ kind: "body", status: reply.statusCode, headers, body })
          : claim.release();
      void settled.then(() => done(null, payload));
    },
  };
}

/**
 * A key this request owns until its answer is known: {@link keep} stores
 * the answer (state `done`), {@link release} deletes the record so a retry
 * runs again. Only the first of them acts; neither rejects (a store failure
 * is logged, and a failed `keep` falls back to `release`).
 */
export class IdempotencyClaim {
  private settled: Promise<void> | null = null;
  private readonly events: string[] = [];
  private readonly texts: string[] = [];

  /**
   * Observer for `streamToClient`: keeps the `data:` payloads of a chat stream, stored with `[DONE]` when it
   * completes; for another protocol, the SSE text written, stored whole (its closing text included) as the body.
   */
  readonly stream: StreamObserver = {
    onData: (data) => {
      this.events.push(data);
    },
    onText: (text) => {
      this.texts.push(text);
    },
    beforeEnd: (complete, lastText, contentType) => {
      if (!complete) return this.release();
      const headers = { ...this.headers(), "content-type": contentType ?? SSE_CONTENT_TYPE };
      if (lastText !== undefined)
        return this.keep({ kind: "body", status: 200, headers, body: this.texts.join("") + lastText });
      return this.keep({ kind: "sse", status: 200, headers, events: [...this.events, "[DONE]"] });
    },
  };

  constructor(
    private readonly store: IdempotencyStore,
    /** The tenant, key and request fingerprint claimed. */
    readonly target: IdempotencyTarget,
    private readonly logger: Logger,
    private readonly requestId: string,
    /** The answer's headers worth replaying (the deployment that answered, the attempts made), read when the answer is kept. */
    private readonly headers: () => Record<string, string> = () => ({}),
  ) {}

  /** Stores `response` for replays (once; later calls do nothing). */
  keep(response: StoredResponse): Promise<void> {
    return (this.settled ??= this.completeOrRelease(response));
  }

  /** Frees the key so a retry runs the request again (once; after `keep`, nothing). */
  release(): Promise<void> {
    return (this.settled ??= this.releaseNow());
  }

  private async completeOrRelease(response: StoredResponse): Promise<void> {
    try {
      const stored = await this.store.complete(this.target, response);
      if (!stored)
        this.logger.warn(
          { id: this.requestId, idempotencyKey: this.target.key },
          "idempotency record was no longer this request's; answer not stored",
        );
    } catch (error) {
      this.logger.error(
        { id: this.requestId, idempotencyKey: this.target.key, err: error },
        "could not store the answer for idempotent replays",
      );
      await this.releaseNow();
    }
  }

  private async releaseNow(): Promise<void> {
    try {
      await this.store.release(this.target);
    } catch (error) {
      // The record stays `in_progress` until its lock runs out (10 min); retries get 409 until then.
      this.logger.error(
        { id: this.requestId, idempotencyKey: this.target.key, err: error },
        "could not release an idempotency key",
      );
    }
  }
}

/**
 * JavaScript's `JSON.stringify` with the keys of every object sorted, so that
 * a retry serialising the same body in another key order or spacing has the
 * same fingerprint. Not llm's `canonical_json` (see `llmCanonicalJson` in
 * src/recording/message-hash.ts, which writes numbers and strings as Python does).
 */
export function sortedKeysJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? "null";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
  return out;
}

/** The tenant of a request: the one admission set (`request.tenant`, from the API key), else `default`. */
function tenantOf(request: FastifyRequest): string {
  return request.tenant?.tenantId ?? DEFAULT_TENANT;
}

/** The key of the header. @throws RelayError 400 `invalid_idempotency_key` when empty or too long */
function checkKey(header: string | string[]): string {
  const key = Array.isArray(header) ? header.join(", ") : header;
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw errors.invalidIdempotencyKey(
      `The Idempotency-Key header must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters long (got ${key.length}).`,
    );
  }
  return key;
}

/**
 * The headers of an answer that a replay carries again besides its content type:
 * `x-llm-relay-deployment` and `x-llm-relay-attempts` (what answered it the first time).
 */
function answerHeaders(reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of [DEPLOYMENT_HEADER, ATTEMPTS_HEADER]) {
    const value = reply.getHeader(name);
    if (typeof value === "string" || typeof value === "number") headers[name] = String(value);
  }
  return headers;
}

/** Sends a stored answer again, marked as a replay. */
function replay(reply: FastifyReply, response: StoredResponse): FastifyReply {
  reply.code(response.status).headers(response.headers).header(REPLAY_HEADER, "true");
  if (response.kind === "body") return reply.send(response.body);
  return reply
    .header("content-type", response.headers["content-type"] ?? SSE_CONTENT_TYPE)
    .header("cache-control", "no-cache")
    .send(response.events.map((data) => `data: ${data}\n\n`).join(""));
}

function inProgress(): RelayError {
  return errors.idempotencyInProgress(
    "A request with this Idempotency-Key is still being processed; retry after it has answered.",
    { headers: { "retry-after": "1" } },
  );
}

function keyReused(): RelayError {
  return errors.idempotencyKeyReused(
    "This Idempotency-Key was already used for a different request (another path or body); use a new key for a new request.",
  );
}

function unavailable(reason: string): RelayError {
  return errors.idempotencyUnavailable(`Idempotency-Key cannot be honoured right now (${reason}); retry later.`);
}
