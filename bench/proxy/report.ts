/**
 * The proxy benchmark's output: the results table, the target lines, the
 * machine description and the bench-results/proxy-<ISO time>.json file.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Options, Scenario } from "./cli-options.js";
import { REPO } from "./paths.js";
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
    "(medians over the pairs; latencies in ms; rps % = proxy/direct; x = proxy/direct; +p50 = proxy − direct; µs/req = proxy CPU per request;\n" +
      " foreign% = CPU used by processes outside the benchmark during direct/proxied runs, % of one core — high values mean a noisy machine)\n",
  );
}

/** Prints one PASS / FAIL / N/A line per target. */
export function printTargets(targets: TargetResult[], proxy: "relay" | "floor" = "relay"): void {
  process.stdout.write(
    proxy === "floor"
      ? "\nTargets (issue 6), as the FLOOR proxy meets them (they are llm-relay's; the floor shows what is left for it):\n"
      : "\nTargets (issue 6):\n",
  );
  for (const t of targets) {
    const verdict = t.pass === null ? "N/A " : t.pass ? "PASS" : "FAIL";
    const info = t.counts ? "" : " [info only]";
    process.stdout.write(`  ${verdict}  ${t.target.padEnd(42)} ${t.scenario.padEnd(20)} ${t.figures}${info}\n`);
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
}

/**
 * Writes bench-results/proxy-<ISO start time>.json (listing the CPU
 * profiles found in `--cpu-prof`'s directory) and prints where it and the
 * profiles are.
 */
export function writeResults(run: RunRecord): void {
  const { startedAt, machine, options, scenarios, results, targets } = run;
  const outDir = path.join(REPO, "bench-results");
  mkdirSync(outDir, { recursive: true });
  const outFile = path.join(
    outDir,
    `proxy-${options.proxy === "floor" ? "floor-" : ""}${startedAt.toISOString().replace(/[:.]/g, "-")}.json`,
  );
  const profiles = options.cpuProfDir
    ? readdirSync(options.cpuProfDir)
        .filter((f) => f.endsWith(".cpuprofile"))
        .map((f) => path.join(options.cpuProfDir!, f))
    : [];
  writeFileSync(
    outFile,
    `${JSON.stringify(
      {
        benchmark:
          options.proxy === "floor" ? "llm-relay proxy, floor (bench/proxy/floor-proxy.ts)" : "llm-relay proxy",
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
      `CPU profiles: ${profiles.join(", ")}\n  summarise: node --import tsx bench/proxy/top-self-time.ts <file>\n`,
    );
}
