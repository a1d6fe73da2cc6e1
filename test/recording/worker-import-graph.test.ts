/**
 * The record worker loads no provider code: it prices every exchange
 * (`catalog/cost.ts`), and the local (free) rule it needs is plain data
 * (`providers/local-kinds.ts`), not the provider modules. The worker entry
 * is started in a real worker thread, as `WorkerSink` starts it (tsx
 * registered, then the entry imported), with a module resolve hook that
 * writes down every module the thread loads. The plain lists of kinds
 * (`providers/kinds.ts`, `providers/local-kinds.ts`) are all it may load
 * of `src/providers/`.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { afterEach, beforeEach, expect, it } from "vitest";
import { SqliteStore } from "../../src/recording/sqlite/sqlite-store.js";
import { tempDir } from "../helpers/proxy.js";
import { until } from "../helpers/until.js";

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src");

/** A resolve hook (node:module `register`) appending each resolved URL to the file `data.log`. */
const LOGGING_HOOK = `data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from "node:fs";
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + "\\n");
  return result;
}
`)}`;

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** tsx's ESM register API (what `WorkerSink` registers in its worker under the sources). */
function tsxApiUrl(): string {
  const manifestPath = createRequire(import.meta.url).resolve("tsx/package.json");
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as {
    exports: Record<string, { import: { default: string } | string }>;
  };
  const entry = manifest.exports["./esm/api"]!.import;
  return pathToFileURL(path.join(path.dirname(manifestPath), typeof entry === "string" ? entry : entry.default)).href;
}

/**
 * The files under `src/` (relative, `/`-separated) a worker thread loads
 * when it imports `entry` (a path under `src/`), with `workerData`.
 * Resolves once the worker said it imported the entry and `ready(messages)` holds.
 */
async function loadedSources(
  entry: string,
  workerData: unknown,
  ready: (messages: readonly unknown[]) => boolean,
): Promise<string[]> {
  const log = path.join(dir, `${path.basename(entry)}.log`);
  fs.writeFileSync(log, "");
  const entryUrl = pathToFileURL(path.join(SRC, entry)).href;
  const code = `
    const { parentPort } = require("node:worker_threads");
    import("node:module")
      .then(({ register }) => register(${JSON.stringify(LOGGING_HOOK)}, { data: { log: ${JSON.stringify(log)} } }))
      .then(() => import(${JSON.stringify(tsxApiUrl())}))
      .then(({ register }) => { register(); return import(${JSON.stringify(entryUrl)}); })
      .then(() => parentPort.postMessage({ type: "imported" }));
  `;
  const messages: unknown[] = [];
  const worker = new Worker(code, { eval: true, workerData });
  const errors: Error[] = [];
  worker.on("message", (message) => messages.push(message));
  worker.on("error", (error) => errors.push(error));
  try {
    await until(
      () => `the worker importing ${entry} (messages: ${JSON.stringify(messages)}, errors: ${errors.join("; ")})`,
      () =>
        errors.length > 0 || (messages.some((m) => (m as { type?: string }).type === "imported") && ready(messages)),
    );
  } finally {
    await worker.terminate();
  }
  expect(errors).toEqual([]);
  const urls = fs.readFileSync(log, "utf8").split("\n").filter(Boolean);
  const files = urls
    .filter((url) => url.startsWith("file:"))
    .map((url) => path.relative(SRC, fileURLToPath(url)).split(path.sep).join("/"))
    .filter((file) => !file.startsWith(".."));
  return [...new Set(files)].sort();
}

it("the record worker loads the cost rule but no provider module", async () => {
  const dbPath = path.join(dir, "logs.db");
  SqliteStore.open(dbPath).close();
  const files = await loadedSources("recording/record-worker.ts", { dbPath }, (messages) =>
    messages.some((m) => (m as { type?: string }).type === "ready"),
  );
  expect(files).toContain("recording/record-worker.ts");
  expect(files).toContain("recording/sqlite/sqlite-store.ts");
  expect(files).toContain("catalog/cost.ts");
  expect(files.filter((file) => file.startsWith("providers/"))).toEqual([
    "providers/kinds.ts",
    "providers/local-kinds.ts",
  ]);
});

it("the same watch sees the provider modules where they are loaded", async () => {
  const files = await loadedSources("providers/modules.ts", null, () => true);
  expect(files).toContain("providers/ollama/index.ts");
  expect(files).toContain("providers/anthropic/index.ts");
});
