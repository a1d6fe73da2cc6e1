/** Where the proxy benchmark finds the repository, the built proxy and its helper scripts. */
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The repository root: the children's working directory, and where bench-results/ goes. */
export const REPO = path.resolve(HERE, "../..");
/** The built proxy's CLI (`npm run build`). */
export const PROXY_MAIN = path.join(REPO, "dist/cli/main.js");
/** `--import` hook that makes a child exit when this orchestrator dies. */
export const WATCH_PARENT = pathToFileURL(path.join(HERE, "watch-parent.mjs")).href;
/** The floor proxy (`--proxy floor`). */
export const FLOOR_TS = path.join(HERE, "floor-proxy.ts");
/** The floor through Fastify (bench:instructions' `fastify` side). */
export const FASTIFY_FLOOR_TS = path.join(HERE, "fastify-floor.ts");
/** The mock upstream script. */
export const MOCK_TS = path.join(HERE, "mock-upstream.ts");
/** The load generator script. */
export const LOADGEN_TS = path.join(HERE, "loadgen.ts");
