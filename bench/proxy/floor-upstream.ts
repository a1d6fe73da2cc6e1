/**
 * The upstream of the benchmark's floor proxies (floor-proxy.ts, fastify-floor.ts): read from the
 * arguments the benchmark gives `llm-relay serve` (`serve --config <yaml with one base_url> --port N
 * [--db ignored]`), and one undici pool to it, as llm-relay keeps one per deployment.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Pool } from "undici";

/** What a floor proxy needs: its port, the pool to the upstream, and the upstream's chat completions path. */
export interface FloorUpstream {
  port: number;
  pool: Pool;
  path: string;
}

/**
 * Reads `process.argv` (after the script's `serve`) and opens the pool.
 * @throws when the config names no `base_url`
 */
export function floorUpstream(name: string): FloorUpstream {
  const { values } = parseArgs({
    args: process.argv.slice(3),
    options: { config: { type: "string" }, port: { type: "string" }, db: { type: "string" } },
  });
  const baseUrl = /base_url:\s*(\S+)/.exec(readFileSync(values.config!, "utf8"))?.[1];
  if (!baseUrl) throw new Error(`${name}: the config names no base_url`);
  const upstream = new URL(baseUrl);
  return {
    port: Number(values.port),
    pool: new Pool(upstream.origin, { connections: 512 }),
    path: `${upstream.pathname.replace(/\/$/, "")}/chat/completions`,
  };
}
