/**
 * The browser's login: once API keys exist, the UI needs the master key (`LLM_RELAY_MASTER_KEY`).
 * `POST /ui/login` (form field `key`, `application/x-www-form-urlencoded`) checks it and sets the cookie
 * `llm_relay_ui` = `<expiry ms>.<HMAC-SHA256 of "llm_relay_ui:<expiry>" under the master key, base64url>`:
 * HttpOnly, `SameSite=Strict`, `Path=/ui`, 12 h. No state on the server: a cookie is valid while
 * unexpired and signed by the current master key (changing the key logs everyone out).
 * Cookies: RFC 6265 (https://www.rfc-editor.org/rfc/rfc6265); HMAC: RFC 2104.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { escapeHtml } from "../../html-escape.js";
import { sameSecret } from "../same-secret.js";
import type { UiContext } from "./ui-context.js";

/** The cookie's name. */
export const UI_COOKIE = "llm_relay_ui";
/** How long a login lasts, in ms (12 h). */
export const UI_SESSION_MS = 12 * 60 * 60 * 1000;
/** Largest login form body accepted, in bytes. */
const LOGIN_BODY_LIMIT = 4096;

/** Whether the UI's requests must carry a valid cookie now, and whether a login is possible at all. */
export type UiAuthState = "open" | "login" | "no-master-key";

/** `open`: no API keys (loopback proxy); `login`: keys exist and a master key is set; `no-master-key`: keys exist, no master key. */
export async function uiAuthState(ui: UiContext): Promise<UiAuthState> {
  if (!(await ui.keysRequired())) return "open";
  return ui.masterKey === null ? "no-master-key" : "login";
}

/** The cookie value that is valid until `expiresAt` (ms since the epoch), signed with `masterKey`. */
export function sessionToken(masterKey: string, expiresAt: number): string {
  return `${expiresAt}.${signature(masterKey, expiresAt)}`;
}

/** Whether `token` is a cookie value signed with `masterKey` and not expired at `now` (constant-time compare). */
export function validSessionToken(masterKey: string, token: string, now = Date.now()): boolean {
  const match = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return false;
  const expiresAt = Number(match[1]);
  if (!(expiresAt > now)) return false;
  const expected = Buffer.from(signature(masterKey, expiresAt));
  const given = Buffer.from(match[2]!);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Whether the request carries a valid session cookie. */
export function hasValidSession(request: FastifyRequest, masterKey: string): boolean {
  const token = cookieValue(request.headers.cookie, UI_COOKIE);
  return token !== null && validSessionToken(masterKey, token);
}

/** The value of cookie `name` in a `Cookie` header, or null. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return null;
}

/** The login page: the form (with `problem` above it), or when no master key is configured only that explanation. */
export function loginPage(state: UiAuthState, problem: string | null = null): string {
  const body =
    state === "no-master-key"
      ? `<p class="login-problem">API keys exist, so the conversation browser needs the master key, and this server has none: start it with <code>LLM_RELAY_MASTER_KEY</code> set.</p>`
      : `${problem ? `<p class="login-problem" role="alert">${escapeHtml(problem)}</p>` : ""}
    <form method="post" action="/ui/login" class="login-form">
      <label for="key">Master key (<code>LLM_RELAY_MASTER_KEY</code>)</label>
      <input id="key" name="key" type="password" autocomplete="current-password" required autofocus />
      <button type="submit">Sign in</button>
    </form>`;
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>llm-relay — sign in</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/ui/styles.css" />
  </head>
  <body class="login">
    <main class="login-box">
    <h1>llm-relay</h1>
    ${body}
    </main>
  </body>
</html>
`;
}

/** Sends the login page (the form, or the no-master-key notice) with `status`. */
export function sendLoginPage(reply: FastifyReply, state: UiAuthState, status: number, problem?: string): FastifyReply {
  return reply
    .code(status)
    .header("cache-control", "no-store")
    .type("text/html; charset=utf-8")
    .send(loginPage(state, problem ?? null));
}

/**
 * `GET /ui/login`, `POST /ui/login` (its own urlencoded parser, in a scope of its own), `POST /ui/logout`.
 * A right key: 303 to `/ui/` with the cookie; a wrong one: 401 and the form again; no master key: 401 and the notice.
 * Without API keys the UI is open: the login page sends to `/ui/`.
 */
export function registerUiAuthRoutes(app: FastifyInstance, ui: UiContext): void {
  void app.register((scope, _options, done) => {
    scope.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: LOGIN_BODY_LIMIT },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    scope.get("/ui/login", async (_request, reply) => {
      const state = await uiAuthState(ui);
      if (state === "open") return reply.redirect("/ui/", 303);
      return sendLoginPage(reply, state, 200);
    });
    scope.post("/ui/login", async (request, reply) => {
      const state = await uiAuthState(ui);
      if (state === "open") return reply.redirect("/ui/", 303);
      if (state === "no-master-key" || ui.masterKey === null) return sendLoginPage(reply, state, 401);
      const form = request.body as Record<string, unknown> | null;
      const key = typeof form?.key === "string" ? form.key : "";
      if (!sameSecret(key, ui.masterKey)) return sendLoginPage(reply, state, 401, "That is not the master key.");
      const expiresAt = Date.now() + UI_SESSION_MS;
      return reply
        .header("set-cookie", sessionCookie(sessionToken(ui.masterKey, expiresAt), UI_SESSION_MS / 1000))
        .header("cache-control", "no-store")
        .redirect("/ui/", 303);
    });
    scope.post("/ui/logout", async (_request, reply) =>
      reply.header("set-cookie", sessionCookie("", 0)).header("cache-control", "no-store").redirect("/ui/login", 303),
    );
    done();
  });
}

function sessionCookie(value: string, maxAgeS: number): string {
  return `${UI_COOKIE}=${value}; Path=/ui; Max-Age=${maxAgeS}; HttpOnly; SameSite=Strict`;
}

function signature(masterKey: string, expiresAt: number): string {
  return createHmac("sha256", masterKey).update(`${UI_COOKIE}:${expiresAt}`).digest("base64url");
}
