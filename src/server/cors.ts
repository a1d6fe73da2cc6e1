/**
 * CORS for browser clients (https://fetch.spec.whatwg.org/#http-cors-protocol),
 * with `@fastify/cors`: only when the config lists `cors_origins`, only for
 * those origins (`*`: any), and only on the public API (`/v1/*`, its
 * `/openai/v1/*` alias, `/api/*`, `/v1beta/*`, `/health`).
 *
 * - A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`)
 *   from a listed origin is answered 204 in the `onRequest` hook, before
 *   admission (a browser sends no key with it): `access-control-allow-origin`
 *   (the origin, or `*`), `-allow-methods`, `-allow-headers` (the headers
 *   asked for, reflected: `authorization`, `x-api-key`, `x-goog-api-key`,
 *   `anthropic-version`, `x-stainless-*`, … whatever the client sends),
 *   `-max-age`.
 * - Every other request from a listed origin gets
 *   `access-control-allow-origin` and `access-control-expose-headers` (our
 *   response headers a browser script may read: {@link EXPOSED_HEADERS}),
 *   streams and errors included.
 * - Any other origin, path or `OPTIONS` request gets no `access-control-*`
 *   header (an `OPTIONS` then is the usual 404).
 */
import fastifyCors, { type FastifyCorsOptions } from "@fastify/cors";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ATTEMPTS_HEADER, DEPLOYMENT_HEADER } from "../exchange/exchange.js";
import { BUDGET_HEADER, PUBLIC_API_PREFIXES } from "./admission.js";
import { REPLAY_HEADER } from "./idempotency.js";
import { OVERHEAD_HEADER } from "./routes/chat-completions.js";

/** Response headers a browser script may read (`access-control-expose-headers`). */
export const EXPOSED_HEADERS = [
  "x-request-id",
  DEPLOYMENT_HEADER,
  ATTEMPTS_HEADER,
  OVERHEAD_HEADER,
  BUDGET_HEADER,
  REPLAY_HEADER,
  "x-ratelimit-limit-requests",
  "x-ratelimit-limit-tokens",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-remaining-tokens",
  "x-ratelimit-reset-requests",
  "x-ratelimit-reset-tokens",
  "retry-after",
  "retry-after-ms",
] as const;

/** Methods a preflight allows (`access-control-allow-methods`): those the public routes serve. */
const METHODS = ["GET", "HEAD", "POST"];
/** How long a browser may cache a preflight's answer, in s (`access-control-max-age`; browsers cap it at 2 h or less). */
const PREFLIGHT_MAX_AGE_S = 600;
/** Paths answered with CORS headers besides the public API's prefixes. */
const PUBLIC_PATHS = new Set(["/health"]);
/** The public API's path prefixes, with the `/openai/v1/` alias (normally rewritten to `/v1/` before the hooks run). */
const CORS_PREFIXES: readonly string[] = [...PUBLIC_API_PREFIXES, "/openai/v1/"];

/** Whether a request's path is on the public API, where CORS applies. */
export function isCorsPath(url: string): boolean {
  const path = url.split("?", 1)[0]!;
  return PUBLIC_PATHS.has(path) || CORS_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/**
 * Registers `@fastify/cors` on `app` for `origins` (exact origins such as
 * `http://localhost:5173`, or `*`); does nothing for an empty list.
 */
export function registerCors(app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const anyOrigin = origins.includes("*");
  const listed = new Set(origins);
  const optionsFor = (request: FastifyRequest): FastifyCorsOptions => {
    const origin = request.headers.origin;
    const allowed = origin !== undefined && (anyOrigin || listed.has(origin)) && isCorsPath(request.url);
    // An OPTIONS request without Access-Control-Request-Method is no preflight: left to routing (404).
    const notPreflight = request.method === "OPTIONS" && request.headers["access-control-request-method"] === undefined;
    if (!allowed || notPreflight) return { origin: false };
    return {
      origin: anyOrigin ? "*" : origin,
      methods: METHODS,
      exposedHeaders: [...EXPOSED_HEADERS],
      maxAge: PREFLIGHT_MAX_AGE_S,
      credentials: false,
    };
  };
  void app.register(fastifyCors, {
    hook: "onRequest",
    delegator: (request, callback) => callback(null, optionsFor(request)),
  });
}
