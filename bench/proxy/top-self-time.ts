/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, *.cpuprofile): the
 * functions with the most self time, and self time per package / file
 * group. Used for docs/PERFORMANCE.md.
 *
 *   node --import tsx bench/proxy/top-self-time.ts <file.cpuprofile | dir> [--top 15] [--json]
 *
 * A directory means every .cpuprofile in it, added together.
 * Self time of a sample = the time until the next sample (V8's timeDeltas).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** One function (or, in `groups`, one package / group) and its self time. */
export interface SelfTimeRow {
  function: string;
  location: string;
  group: string;
  selfMs: number;
  /** % of all sampled time. */
  pct: number;
  /** % of the busy time (without (idle)). */
  busyPct: number;
}

const SPECIAL = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

/** Where a script comes from: a node_modules package, node's own code, or our dist/src. */
export function groupOf(url: string, functionName: string): string {
  if (SPECIAL.has(functionName) && !url) return functionName;
  if (!url) return "(native / V8)";
  if (url.startsWith("node:")) return "node core";
  const file = url.startsWith("file://") ? decodeURIComponent(new URL(url).pathname) : url;
  const nm = file.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = file.slice(nm + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? file);
  }
  const dist = file.lastIndexOf("/dist/");
  if (dist >= 0)
    return `llm-relay ${file
      .slice(dist + 1)
      .split("/")
      .slice(0, 2)
      .join("/")}`;
  return path.basename(file);
}

function shortLocation(url: string, line: number): string {
  if (!url) return "";
  let file = url.startsWith("file://") ? decodeURIComponent(new URL(url).pathname) : url;
  const nm = file.lastIndexOf("/node_modules/");
  if (nm >= 0) file = file.slice(nm + 1);
  else {
    const dist = file.lastIndexOf("/dist/");
    if (dist >= 0) file = file.slice(dist + 1);
  }
  return `${file}:${line + 1}`;
}

/** Self time per node id, ms. */
function selfTimes(profile: CpuProfile): Map<number, number> {
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0 && deltas.length === samples.length) {
    for (let i = 0; i < samples.length; i++) {
      // deltas[i + 1] is the time from sample i to sample i + 1; the last sample gets the mean interval.
      const us = i + 1 < deltas.length ? deltas[i + 1]! : (profile.endTime - profile.startTime) / samples.length;
      const id = samples[i]!;
      self.set(id, (self.get(id) ?? 0) + Math.max(0, us) / 1000);
    }
    return self;
  }
  // Old format: hit counts and the mean interval.
  const hits = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
  const interval = hits > 0 ? (profile.endTime - profile.startTime) / hits / 1000 : 0;
  for (const node of profile.nodes) self.set(node.id, (node.hitCount ?? 0) * interval);
  return self;
}

/**
 * Adds up the self time of the profiles in `files` (paths of .cpuprofile
 * JSON files): the `top` functions by self time, and every group, with
 * the sampled and busy (not idle) totals, ms. Throws when a file cannot be
 * read or parsed.
 */
export function summarise(
  files: string[],
  top: number,
): { totalMs: number; busyMs: number; functions: SelfTimeRow[]; groups: SelfTimeRow[] } {
  const byFunction = new Map<string, { function: string; location: string; group: string; selfMs: number }>();
  const byGroup = new Map<string, number>();
  let totalMs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
    const self = selfTimes(profile);
    for (const node of profile.nodes) {
      const ms = self.get(node.id) ?? 0;
      if (ms === 0) continue;
      const { functionName, url, lineNumber, columnNumber } = node.callFrame;
      const name = functionName || "(anonymous)";
      const key = `${name}\u0000${url}\u0000${lineNumber}\u0000${columnNumber}`;
      const group = groupOf(url, name);
      const row = byFunction.get(key) ?? { function: name, location: shortLocation(url, lineNumber), group, selfMs: 0 };
      row.selfMs += ms;
      byFunction.set(key, row);
      byGroup.set(group, (byGroup.get(group) ?? 0) + ms);
      totalMs += ms;
    }
  }
  const idleMs = byGroup.get("(idle)") ?? 0;
  const busyMs = totalMs - idleMs;
  const pct = (ms: number) => (totalMs > 0 ? (100 * ms) / totalMs : 0);
  const busyPct = (ms: number, name: string) => (name === "(idle)" || busyMs <= 0 ? Number.NaN : (100 * ms) / busyMs);
  const functions = [...byFunction.values()]
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, top)
    .map((r) => ({ ...r, pct: pct(r.selfMs), busyPct: busyPct(r.selfMs, r.function) }));
  const groups = [...byGroup.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([group, ms]) => ({
      function: group,
      location: "",
      group,
      selfMs: ms,
      pct: pct(ms),
      busyPct: busyPct(ms, group),
    }));
  return { totalMs, busyMs, functions, groups };
}

function profileFiles(target: string): string[] {
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => path.join(target, f))
    .sort();
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: "string", default: "15" }, json: { type: "boolean", default: false } },
  });
  const target = positionals[0];
  if (!target) {
    process.stderr.write(
      "usage: node --import tsx bench/proxy/top-self-time.ts <file.cpuprofile | dir> [--top 15] [--json]\n",
    );
    process.exit(2);
  }
  const files = profileFiles(target);
  if (files.length === 0) throw new Error(`no .cpuprofile in ${target}`);
  const top = Number(values.top);
  const result = summarise(files, top);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ files, ...result }, null, 2)}\n`);
    return;
  }
  const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "-");
  process.stdout.write(`${files.length} profile(s): ${files.map((f) => path.basename(f)).join(", ")}\n`);
  process.stdout.write(`sampled ${f1(result.totalMs)} ms, busy (not idle) ${f1(result.busyMs)} ms\n\n`);
  process.stdout.write(`Top ${top} functions by self time (% of busy time):\n`);
  process.stdout.write(`${"self ms".padStart(9)} ${"busy%".padStart(6)}  ${"function".padEnd(38)} location\n`);
  for (const r of result.functions)
    process.stdout.write(
      `${f1(r.selfMs).padStart(9)} ${f1(r.busyPct).padStart(6)}  ${r.function.slice(0, 38).padEnd(38)} ${r.location || r.group}\n`,
    );
  process.stdout.write(`\nSelf time by package / group:\n`);
  for (const g of result.groups.slice(0, 20))
    process.stdout.write(`${f1(g.selfMs).padStart(9)} ${f1(g.busyPct).padStart(6)}  ${g.group}\n`);
}

// Run as a script only: report.ts imports summarise().
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
