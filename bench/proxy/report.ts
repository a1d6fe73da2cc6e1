/**
 * The proxy benchmark's output: the results table, the CPU per request of
 * every side, the target lines, the CPU profiles' top functions, the
 * machine description and the bench-results/proxy-<ISO time>.json file.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Options, type Scenario, type Side, sideOf } from "./cli-options.js";
import { REPO } from "./paths.js";
import type { ProfileSummary } from "./profiles.js";
import { fmt, type ScenarioResult } from "./summary.js";
import type { TargetResult } from "./targets.js";

function table(rows: string[][], header: string[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** Prints one row of medians per scenario, and the legend. */
export function printTable(results: ScenarioResult[]): void {
  const header = [
    "scenario",
    "rps dir",
    "rps prx",
    "rps %",
    "p50 dir",
    "p50 prx",
    "+p50",
    "p99 dir",
    "p99 prx",
    "p99 x",
    "ttfb50 dir",
    "ttfb50 prx",
    "+ttfb50",
    "ttfb99 dir",
    "ttfb99 prx",
    "ttfb99 x",
    "RSS MB",
    "µs/req",
    "foreign%",
    "err d/p",
    "rec==done",
  ];
  const rows = results.map((s) => {
    if (s.error && s.runs.length === 0) return [s.name, `FAILED: ${s.error.slice(0, 100)}`];
    const st = s.stream;
    return [
      s.name,
      fmt(s.direct.rps, 0),
      fmt(s.proxy.rps, 0),
      fmt(s.ratio.rps * 100, 1),
      fmt(s.direct.p50TotalMs),
      fmt(s.proxy.p50TotalMs),
      fmt(s.addedP50TotalMs),
      fmt(s.direct.p99TotalMs),
      fmt(s.proxy.p99TotalMs),
      fmt(s.ratio.p99TotalMs, 2),
      st ? fmt(s.direct.p50TtfbMs) : "",
      st ? fmt(s.proxy.p50TtfbMs) : "",
      st ? fmt(s.addedP50TtfbMs) : "",
      st ? fmt(s.direct.p99TtfbMs) : "",
      st ? fmt(s.proxy.p99TtfbMs) : "",
      st ? fmt(s.ratio.p99TtfbMs, 2) : "",
      fmt(s.peakRssMb, 1),
      fmt(s.proxyCpuUsPerRequest, 0),
      `${fmt(s.foreignCpuPctDirect, 0)}/${fmt(s.foreignCpuPctProxied, 0)}`,
      `${s.directErrors}/${s.proxyErrors}`,
      s.recordedOk ? "yes" : "NO",
    ];
  });
  process.stdout.write(`\n${table(rows, header)}\n`);
  process.stdout.write(
    "(medians over the pairs; latencies in ms; rps % = proxy/direct; x = proxy/direct; +p50 = proxy − direct; µs/req = proxy CPU per request, drain included;\n" +
      " foreign% = CPU used by processes outside the benchmark during direct/proxied runs, % of one core — high values mean a noisy machine)\n",
  );
}

const SIDES: { side: Side; label: string }[] = [
  { side: "floor", label: "the floor (floor-proxy.ts)" },
  { side: "norec", label: "llm-relay, recording off" },
  { side: "rec", label: "llm-relay, recording on" },
];

/**
 * Prints the median proxy CPU per request (all threads, through the drain
 * of the record queue; µs) of every side, one column per stream ×
 * concurrency, as the issue states it.
 */
export function printCpuTable(results: ScenarioResult[]): void {
  const group = (s: ScenarioResult) => `${s.stream ? "stream" : "nonstream"} c=${s.concurrency}`;
  const columns = [...new Set(results.map(group))];
  const rows = SIDES.filter(({ side }) => results.some((s) => sideOf(s) === side)).map(({ side, label }) => [
    label,
    ...columns.map((c) => {
      const s = results.find((r) => group(r) === c && sideOf(r) === side);
      return s && !s.error ? `${fmt(s.proxyCpuUsPerRequest, 0)} (${fmt(s.proxyMainCpuUsPerRequest, 0)})` : "-";
    }),
  ]);
  process.stdout.write(
    `\nProxy CPU per request, µs (all threads, /proc/PID/stat utime+stime from the start of the load\n`,
  );
  process.stdout.write(
    ` to the end of the record queue's drain, divided by the responses read; median over the pairs;\n` +
      ` in brackets the main thread's share, /proc/PID/task/PID/stat: the rest is the record worker and V8's helpers):\n\n`,
  );
  process.stdout.write(`${table(rows, ["side", ...columns])}\n`);
}

/** Prints one PASS / FAIL / N/A line per target: the measured figure, the target, the figures behind it. */
export function printTargets(targets: TargetResult[]): void {
  process.stdout.write(
    "\nTargets (issue 22; recording on, against the floor of this run; N/A: the floor or a figure is missing):\n",
  );
  const header = ["", "target", "scenario", "measured", "target", "figures"];
  const rows = targets.map((t) => [
    t.pass === null ? "N/A" : t.pass ? "PASS" : "FAIL",
    t.target,
    t.scenario,
    t.measured,
    t.limit,
    `${t.figures}${t.counts ? "" : " [info only]"}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    process.stdout.write(
      `  ${r.map((c, i) => (i === 3 ? c.padStart(widths[i]!) : i === 5 ? c : c.padEnd(widths[i]!))).join("  ")}\n`,
    );
}

/**
 * Prints every CPU profile written (main thread and worker threads: llm-relay's record worker, and for
 * the floor tsx's module loader) with its top functions by self time.
 */
export function printProfiles(profiles: ProfileSummary[]): void {
  if (profiles.length === 0) return;
  const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "-");
  process.stdout.write(
    `\nCPU profiles (${profiles.length} files; top functions by self time, % of the thread's busy time):\n`,
  );
  for (const p of profiles) {
    const shown = path.relative(process.cwd(), p.file);
    process.stdout.write(`\n  ${p.scenario}, ${p.thread}: ${shown.startsWith("..") ? p.file : shown}\n`);
    if (p.error) {
      process.stdout.write(`    unreadable: ${p.error}\n`);
      continue;
    }
    process.stdout.write(`    sampled ${f1(p.totalMs)} ms, busy ${f1(p.busyMs)} ms\n`);
    for (const r of p.top)
      process.stdout.write(
        `    ${f1(r.selfMs).padStart(9)} ms ${f1(r.busyPct).padStart(5)} %  ${r.function.slice(0, 40).padEnd(40)} ${r.location || r.group}\n`,
      );
  }
}

function gitInfo(): { commit: string | null; dirty: string[] } {
  const rev = spawnSync("git", ["rev-parse", "HEAD"], { cwd: REPO, encoding: "utf8" });
  const status = spawnSync("git", ["status", "--porcelain"], { cwd: REPO, encoding: "utf8" });
  return {
    commit: rev.status === 0 ? rev.stdout.trim() : null,
    dirty: status.status === 0 ? status.stdout.split("\n").filter(Boolean) : [],
  };
}

/** The machine, the process layout and the git state, as recorded in the results file. */
export interface Machine {
  cpus: number;
  cpuModel: string;
  platform: string;
  totalMemMb: number;
  node: string;
  tasksetFound: boolean;
  pinned: boolean;
  layout: string;
  loadavgAtStart: number[];
  gitCommit: string | null;
  gitDirty: string[];
}

/** Describes the machine now (call it before the runs: it takes the load average at start). */
export function describeMachine(cpus: number, tasksetFound: boolean, pinned: boolean): Machine {
  const git = gitInfo();
  return {
    cpus,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    totalMemMb: Math.round(os.totalmem() / 1024 / 1024),
    node: process.version,
    tasksetFound,
    pinned,
    layout: pinned ? "proxy on core 0; mock upstream, load generator and orchestrator on core 1" : "unpinned",
    loadavgAtStart: os.loadavg(),
    gitCommit: git.commit,
    gitDirty: git.dirty,
  };
}

/** Everything the results file holds besides its timestamps and the CPU profiles. */
export interface RunRecord {
  startedAt: Date;
  machine: Machine;
  options: Options;
  scenarios: Scenario[];
  results: ScenarioResult[];
  targets: TargetResult[];
  /** The CPU profiles written (`--cpu-prof`), summarised. */
  profiles: ProfileSummary[];
}

/**
 * Writes bench-results/proxy-<ISO start time>.json (with the CPU profiles'
 * summaries) and prints where it is. Throws when it cannot be written.
 */
export function writeResults(run: RunRecord): void {
  const { startedAt, machine, options, scenarios, results, targets, profiles } = run;
  const outDir = path.join(REPO, "bench-results");
  mkdirSync(outDir, { recursive: true });
  const outFile = path.join(
    outDir,
    `proxy-${options.proxy === "floor" ? "floor-" : ""}${startedAt.toISOString().replace(/[:.]/g, "-")}.json`,
  );
  writeFileSync(
    outFile,
    `${JSON.stringify(
      {
        benchmark:
          options.proxy === "floor"
            ? "llm-relay proxy, floor (bench/proxy/floor-proxy.ts)"
            : options.proxy === "both"
              ? "llm-relay proxy against the floor (bench/proxy/floor-proxy.ts)"
              : "llm-relay proxy",
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        machine,
        options: { ...options, scenarios: scenarios.map((s) => s.name) },
        scenarios: results,
        targets,
        cpuProfiles: profiles,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`\nResults: ${path.relative(process.cwd(), outFile)}\n`);
  if (profiles.length)
    process.stdout.write(
      `CPU profiles: ${options.cpuProfDir}/<scenario>/ (more: node --import tsx bench/proxy/top-self-time.ts <file | dir>)\n`,
    );
}
