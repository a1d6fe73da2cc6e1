// Builds the conversation browser (issue 21) into dist/ui: the ES module app.js (Preact + htm,
// marked + DOMPurify), Chart.js as a chunk the Usage page loads on first use (chunks/), and the
// static files, served by `@fastify/static` at /ui.
// Runs in `npm run build` (and the tests' global setup); nothing is built or fetched at run time.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "dist", "ui");
rmSync(out, { recursive: true, force: true }); // no stale chunks of an earlier build
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, "src", "main.ts")],
  outdir: out,
  entryNames: "app",
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
});
cpSync(join(here, "static"), out, { recursive: true });
