/**
 * The statistics of one scenario: medians over its direct/proxied pairs,
 * proxy/direct ratios and added latency, errors, and the record check.
 */
import type { Scenario } from "./cli-options.js";
import type { LoadResult } from "./loadgen.js";
import type { RunCpu } from "./measured-run.js";

const FIGURES = ["rps", "p50TotalMs", "p99TotalMs", "p50TtfbMs", "p99TtfbMs"] as const;
type Figure = (typeof FIGURES)[number];
/** The headline figures of a load run (or their medians / ratios). */
export type Figures = Record<Figure, number>;

function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

function medians(results: LoadResult[]): Figures {
  const out = {} as Figures;
  for (const f of FIGURES) out[f] = median(results.map((r) => r[f]));
  return out;
}

/** One direct run and the proxied run after it, with the record check of the proxied one. */
export interface RunPair {
  pair: number;
  direct: LoadResult;
  proxy: LoadResult;
  directCpu: RunCpu;
  proxyCpu: RunCpu;
  proxyPeakRssMb: number | null;
  /** Rows this proxied run added to llm_relay_exchanges. */
  recorded: number;
  /** Rows expected: responses the load generator read (warm-up included) with recording on, 0 with it off. */
  expectedRecorded: number;
  recordedOk: boolean;
  failedWrites: number | null;
}

/** A scenario's pairs and their summary (as written to the results file). */
export interface ScenarioResult extends Scenario {
  runs: RunPair[];
  direct: Figures;
  proxy: Figures;
  ratio: Figures;
  /** proxy − direct of the medians, ms. */
  addedP50TotalMs: number;
  addedP50TtfbMs: number;
  /** Median over the pairs of (proxy − direct) p50, ms. */
  addedP50TotalMsPaired: number;
  addedP50TtfbMsPaired: number;
  peakRssMb: number | null;
  /** Median proxy CPU per request, µs (less sensitive to other load on the machine than rps). */
  proxyCpuUsPerRequest: number;
  /** Of it, the main thread's (the request path), µs; the rest is the record worker's and V8's helpers'. */
  proxyMainCpuUsPerRequest: number;
  /** Median CPU used by processes outside the benchmark during the proxied / direct runs, % of one core. */
  foreignCpuPctProxied: number;
  foreignCpuPctDirect: number;
  directErrors: number;
  proxyErrors: number;
  recordedOk: boolean;
  error?: string;
}

/**
 * Summarises the pairs run for a scenario (possibly none, or fewer than
 * asked when `error` is set: the scenario failed, and its record check too).
 */
export function summarise(scenario: Scenario, runs: RunPair[], peak: number | null, error?: string): ScenarioResult {
  const direct = medians(runs.map((r) => r.direct));
  const proxy = medians(runs.map((r) => r.proxy));
  const ratio = {} as Figures;
  for (const f of FIGURES) ratio[f] = proxy[f] / direct[f];
  const errorsOf = (r: LoadResult) => r.all.non200 + r.all.exceptions;
  return {
    ...scenario,
    runs,
    direct,
    proxy,
    ratio,
    addedP50TotalMs: proxy.p50TotalMs - direct.p50TotalMs,
    addedP50TtfbMs: proxy.p50TtfbMs - direct.p50TtfbMs,
    addedP50TotalMsPaired: median(runs.map((r) => r.proxy.p50TotalMs - r.direct.p50TotalMs)),
    addedP50TtfbMsPaired: median(runs.map((r) => r.proxy.p50TtfbMs - r.direct.p50TtfbMs)),
    peakRssMb: peak,
    proxyCpuUsPerRequest: median(runs.map((r) => r.proxyCpu.proxyCpuUsPerRequest ?? Number.NaN)),
    proxyMainCpuUsPerRequest: median(runs.map((r) => r.proxyCpu.proxyMainCpuUsPerRequest ?? Number.NaN)),
    foreignCpuPctProxied: median(runs.map((r) => r.proxyCpu.foreignCpuPct)),
    foreignCpuPctDirect: median(runs.map((r) => r.directCpu.foreignCpuPct)),
    directErrors: runs.reduce((n, r) => n + errorsOf(r.direct), 0),
    proxyErrors: runs.reduce((n, r) => n + errorsOf(r.proxy), 0),
    recordedOk: error === undefined && runs.length > 0 && runs.every((r) => r.recordedOk),
    ...(error !== undefined ? { error } : {}),
  };
}

/** A figure with `digits` decimals, or "-" when missing or not finite. */
export function fmt(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "-";
  return n.toFixed(digits);
}
