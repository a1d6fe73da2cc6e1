/**
 * The conversation browser on a Fastify app (issue 21): `registerUi(app, ui)` adds the page's files
 * (`/ui/`), the login (`/ui/login`, `/ui/logout`), the JSON API (`/ui/api/*`), the Live stream and the
 * bench report route, and one `onRequest` hook for every `/ui*` request that
 *
 * - sets the security headers: `Content-Security-Policy` ({@link UI_CSP}: nothing but this origin, no inline
 *   script or style, no framing), `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`;
 * - checks the login once API keys exist: without a valid `llm_relay_ui` cookie, `/ui/api/*` answers
 *   401 (envelope, `invalid_api_key`) and pages answer 401 with the login form; `/ui/login`, `/ui/logout`
 *   and the login page's stylesheet are always served. Keys but no master key: nothing else is served.
 *
 * The same function serves `llm-relay serve` (with a Live source) and `llm-relay ui` (without).
 */
import type { FastifyInstance } from "fastify";
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
  app.addHook("onRequest", async (request, reply) => {
    // Decided by the route the router matched (its pattern), not by the URL's spelling: `/%75i/api/…` is `/ui/api/…`.
    const route = request.routeOptions.url;
    if (!isUiPath(route ?? request.url)) return;
    reply.header("content-security-policy", UI_CSP);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
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
    return sendLoginPage(reply, state, 401);
  });
  registerUiAuthRoutes(app, ui);
  registerUiApiRoutes(app, ui);
  registerUiBudgets(app, ui);
  registerUiBench(app, ui);
  const streams = registerUiLive(app, ui, options.liveHeartbeatMs ? { heartbeatMs: options.liveHeartbeatMs } : {});
  registerUiStatic(app, options.distDir);
  return streams;
}
