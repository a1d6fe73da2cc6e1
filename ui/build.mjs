// Builds the conversation browser (issue 21) into dist/ui: one ES module bundle (Preact + htm,
// marked + DOMPurify, Chart.js) and its static files, served by `@fastify/static` at /ui.
// Runs in `npm run build` (and the tests' global setup); nothing is built or fetched at run time.
import { build } from "esbuild";
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "dist", "ui");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, "src", "main.ts")],
  outfile: join(out, "app.js"),
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
});
cpSync(join(here, "static"), out, { recursive: true });
