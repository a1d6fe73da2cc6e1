/**
 * The conversation browser on a Fastify app (issue 21): `registerUi(app, ui)` adds the page's files
 * (`/ui/`), the login (`/ui/login`, `/ui/logout`), the JSON API (`/ui/api/*`), the Live stream and the
 * bench report route, and one `onRequest` hook for every `/ui*` request that
 *
 * - sets the security headers: `Content-Security-Policy` ({@link UI_CSP}: nothing but this origin, no inline
 *   script or style, no framing), `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, and
 *   `Cache-Control: no-store` on `/ui/api/*`;
 * - checks the login once API keys exist: without a valid `llm_relay_ui` cookie, `/ui/api/*` answers
 *   401 (envelope, `invalid_api_key`) and pages answer 401 with the login form; `/ui/login`, `/ui/logout`
 *   and the login page's stylesheet are always served. Keys but no master key: nothing else is served.
 *
 * The same function serves `llm-relay serve` (with a Live source) and `llm-relay ui` (without).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errors } from "../../protocol/error-codes.js";
import { isUiPath } from "../errors.js";
import { registerUiApiRoutes } from "./api-routes.js";
import { hasValidSession, registerUiAuthRoutes, sendLoginPage, uiAuthState } from "./auth.js";
import { registerUiBench } from "./bench-routes.js";
import { registerUiBudgets } from "./budgets.js";
import { registerUiLive, type LiveStreams } from "./live.js";
import { registerUiStatic } from "./static.js";
import type { UiContext } from "./ui-context.js";

/** The Content-Security-Policy of every `/ui` answer (the bench report sets its own). */
export const UI_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/** Routes served without a login: the login form and logging out (and, of the files, the form's stylesheet). */
const PUBLIC_UI_ROUTES = new Set(["/ui/login", "/ui/logout"]);
/** The file of the page files' wildcard route served without a login. */
const PUBLIC_UI_FILE = "styles.css";

/** Options of {@link registerUi}. */
export interface RegisterUiOptions {
  /** The built page files (default `dist/ui` of this package). */
  distDir?: string;
  /** Time between the Live stream's heartbeat comments, in ms (default 15 s; tests shorten it). */
  liveHeartbeatMs?: number;
}

/**
 * Registers the browser's routes and hooks on `app`.
 * @returns the open Live streams (ended by the app's `preClose`)
 */
export function registerUi(app: FastifyInstance, ui: UiContext, options: RegisterUiOptions = {}): LiveStreams {
  const guard = uiGuard(ui);
  // On every request (unmatched /ui URLs get the headers too), so a synchronous exit for the proxied routes: no
  // promise per request for a feature they do not use.
  app.addHook("onRequest", (request, reply, done) => {
    // Decided by the route the router matched (its pattern), not by the URL's spelling: `/%75i/api/…` is `/ui/api/…`.
    if (!isUiPath(request.routeOptions.url ?? request.url)) {
      done();
      return;
    }
    // A guard that answered (the login page) ends the request there: Fastify is then not told to go on.
    guard(request, reply).then(() => {
      if (!reply.sent) done();
    }, done);
  });
  registerUiAuthRoutes(app, ui);
  registerUiApiRoutes(app, ui);
  registerUiBudgets(app, ui);
  registerUiBench(app, ui);
  const streams = registerUiLive(app, ui, options.liveHeartbeatMs ? { heartbeatMs: options.liveHeartbeatMs } : {});
  registerUiStatic(app, options.distDir);
  return streams;
}

/** The security headers of every /ui answer, and the login check of the routes that need it. */
function uiGuard(ui: UiContext): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    const route = request.routeOptions.url;
    reply.header("content-security-policy", UI_CSP);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    // The records are not kept by the browser's cache (nor shown again by its back button after a logout).
    if (route?.startsWith("/ui/api/")) reply.header("cache-control", "no-store");
    // No route: the not-found answer, which shows nothing.
    if (route === undefined || PUBLIC_UI_ROUTES.has(route)) return;
    if (route === "/ui/*" && (request.params as Record<string, unknown>)["*"] === PUBLIC_UI_FILE) return;
    const state = await uiAuthState(ui);
    if (state === "open") return;
    if (state === "login" && ui.masterKey !== null && hasValidSession(request, ui.masterKey)) return;
    if (route.startsWith("/ui/api/")) {
      throw errors.invalidApiKey(
        state === "no-master-key"
          ? "API keys exist, so the conversation browser needs the master key, and this server has none: start it with LLM_RELAY_MASTER_KEY set."
          : "Sign in at /ui/login with the master key (LLM_RELAY_MASTER_KEY).",
      );
    }
    sendLoginPage(reply, state, 401);
  };
}
