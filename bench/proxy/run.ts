/**
 * `npm run bench:proxy [-- flags]`: the proxy benchmark (issues 6 and 22).
 *
 * Three kinds of processes, all on 127.0.0.1: the mock upstream
 * (mock-upstream.ts), the built proxy (`node dist/cli/main.js serve`, one
 * fresh process per scenario so its peak RSS belongs to that scenario) and
 * the load generator (loadgen.ts, one process per run). Where `taskset`
 * exists and there are two cores, the proxy runs on core 0 and everything
 * else (mock, load generator, this orchestrator) on core 1.
 *
 * Each scenario (non-stream | stream) × concurrency × side (the floor,
 * llm-relay with recording on, llm-relay with recording off)
 * alternates direct runs (load generator → mock) and proxied runs (load
 * generator → proxy → mock), `--repeats` pairs, and reports the medians.
 * After every proxied run the rows of `llm_relay_exchanges` added by it
 * are compared with the responses the load generator read (warm-up
 * included): equal with recording on, zero with it off.
 *
 * The floor is bench/proxy/floor-proxy.ts (the thinnest Node proxy), run
 * first in each group; `--proxy relay` or `--proxy floor` runs one kind only.
 * A proxied run's CPU (/proc/PID/stat, all threads) is counted from the
 * start of its load to the end of the drain of the record queue.
 *
 * Writes bench-results/proxy-<ISO time>.json, prints a table, the CPU per
 * request of every side, the PASS/FAIL of issue 22's targets against the
 * floor of the same run, and with `--cpu-prof` every thread's profile and
 * its top functions. Exit code: 0, or 1 when a run failed or the record
 * check failed (targets missed do not change it).
 *
 * Modules: cli-options.ts (flags, scenarios), processes.ts (children),
 * measured-run.ts (one load run and its CPU accounting), scenario-runner.ts
 * (the pairs of one scenario and the record check), summary.ts (medians),
 * targets.ts (issue 22's targets), profiles.ts (the CPU profiles written),
 * report.ts (tables, target lines, profiles, JSON file).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildScenarios, parseOptions } from "./cli-options.js";
import { PROXY_MAIN } from "./paths.js";
import { hasTaskset, installSignalHandlers, isInterrupted, type Mock, startMock, waitExit } from "./processes.js";
import { summariseProfiles } from "./profiles.js";
import { describeMachine, printCpuTable, printProfiles, printTable, printTargets, writeResults } from "./report.js";
import { runScenario } from "./scenario-runner.js";
import type { ScenarioResult } from "./summary.js";
import { evaluateTargets } from "./targets.js";

installSignalHandlers();

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options.proxy !== "floor" && !existsSync(PROXY_MAIN))
    throw new Error(`${PROXY_MAIN} is missing: run npm run build first`);
  const scenarios = buildScenarios(options);
  if (scenarios.length === 0) throw new Error("no scenario selected");
  const cpus = os.availableParallelism();
  const tasksetFound = hasTaskset();
  const pinned = options.pin && tasksetFound && cpus >= 2;
  if (pinned) {
    // This orchestrator stays off the proxy's core as well.
    spawnSync("taskset", ["-pc", "1", String(process.pid)], { stdio: "ignore" });
  }
  if (options.cpuProfDir) mkdirSync(options.cpuProfDir, { recursive: true });
  const tmp = mkdtempSync(path.join(os.tmpdir(), "llm-relay-bench-"));
  const startedAt = new Date();
  const machine = describeMachine(cpus, tasksetFound, pinned);
  process.stdout.write(
    `llm-relay proxy benchmark: ${scenarios.length} scenario(s) × (${options.proxyWarmupS} s proxy warm-up + ${options.repeats} pair(s) × (${options.warmupS} s warm-up + ${options.durationS} s)); ` +
      `${pinned ? "pinned (proxy: core 0; mock + loadgen: core 1)" : `not pinned (${tasksetFound ? "--no-pin or one core" : "no taskset"})`}; ` +
      `${options.proxy === "floor" ? "proxy: the FLOOR (bench/proxy/floor-proxy.ts), not llm-relay; " : options.proxy === "both" ? "proxies: the floor (bench/proxy/floor-proxy.ts), then llm-relay; " : ""}body ${options.body}, ${options.chunks} chunks, chunk delay ${options.chunkDelayMs} ms${options.cpuProfDir ? `, CPU profiles → ${options.cpuProfDir} (profiling slows the proxy)` : ""}\n`,
  );

  const results: ScenarioResult[] = [];
  let mock: Mock | null = null;
  try {
    mock = await startMock(options, pinned);
    for (const scenario of scenarios) {
      if (isInterrupted()) break;
      if (mock.child.exitCode !== null) throw new Error("mock upstream died");
      results.push(await runScenario(scenario, options, mock, tmp, pinned));
    }
  } finally {
    if (mock) {
      mock.child.kill("SIGTERM");
      await waitExit(mock.child, 5000);
    }
    if (!options.keepTmp) rmSync(tmp, { recursive: true, force: true });
  }

  printTable(results);
  printCpuTable(results);
  const targets = evaluateTargets(results);
  printTargets(targets);
  const profiles = options.cpuProfDir ? summariseProfiles(options.cpuProfDir, scenarios, 8) : [];
  printProfiles(profiles);
  writeResults({ startedAt, machine, options, scenarios, results, targets, profiles });
  const failedRecording = results.some((s) => !s.recordedOk);
  if (failedRecording)
    process.stderr.write(
      "\n!!! At least one scenario failed or recorded a different number of exchanges than completed requests !!!\n",
    );
  return failedRecording || isInterrupted() ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
