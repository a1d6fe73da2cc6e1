/**
 * The page's files at `/ui/`: `dist/ui` (built by `ui/build.mjs`: `index.html`, `app.js`, `styles.css`, …)
 * served by `@fastify/static`, found from the package root (where `package.json` is), not from the
 * working directory, so `npx llm-relay` from anywhere serves them. When `dist/ui` was not built, every
 * page answers 503 with a page saying to run `npm run build`.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** `dist/ui` of this package: three levels above this module (`src/server/ui/` and `dist/server/ui/` alike). */
export const UI_DIST_DIR = fileURLToPath(new URL("../../../dist/ui/", import.meta.url));

/** The page shown when `dist/ui` is missing. */
export const UI_NOT_BUILT_HTML = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>llm-relay — UI not built</title></head>
  <body>
    <h1>The conversation browser is not built</h1>
    <p>Its files (<code>dist/ui</code>) are missing: run <code>npm run build</code> in the llm-relay checkout, then restart.</p>
  </body>
</html>
`;

/**
 * Serves `dir` (default {@link UI_DIST_DIR}) at `/ui/` (`index.html` for `/ui/`), and `/ui` → 302 `/ui/`.
 * Unknown files fall through to the app's not-found handler.
 */
export function registerUiStatic(app: FastifyInstance, dir: string = UI_DIST_DIR): void {
  app.get("/ui", (_request, reply) => reply.redirect("/ui/", 302));
  if (!existsSync(`${dir}/index.html`)) {
    const notBuilt = (_request: FastifyRequest, reply: FastifyReply) =>
      reply.code(503).type("text/html; charset=utf-8").header("cache-control", "no-store").send(UI_NOT_BUILT_HTML);
    app.get("/ui/", notBuilt);
    app.get("/ui/*", notBuilt);
    return;
  }
  void app.register(fastifyStatic, {
    root: dir,
    prefix: "/ui/",
    index: "index.html",
    decorateReply: false,
    wildcard: true,
    dotfiles: "ignore",
    // Every answer is checked again (ETag / Last-Modified): a rebuilt bundle is never served stale.
    cacheControl: true,
    maxAge: 0,
  });
}
