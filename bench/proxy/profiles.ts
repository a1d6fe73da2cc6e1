/**
 * The CPU profiles `--cpu-prof` left: one directory per scenario
 * (processes.ts `profileDir`), one file per thread of its proxy, in Node's
 * default name `CPU.<yyyymmdd>.<hhmmss>.<pid>.<thread id>.<seq>.cpuprofile`
 * (https://nodejs.org/docs/latest-v20.x/api/cli.html#--cpu-prof; thread id 0
 * is the main thread, the others worker threads such as the record worker),
 * each summarised by its top self-time functions (top-self-time.ts).
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import type { Scenario } from "./cli-options.js";
import { profileDir } from "./processes.js";
import { type SelfTimeRow, summarise } from "./top-self-time.js";

/** One profile file and its summary. */
export interface ProfileSummary {
  scenario: string;
  file: string;
  /** "main thread", "worker thread <id>", or "unknown thread" when the name is not Node's default. */
  thread: string;
  /** Sampled and busy (not idle) time, ms. */
  totalMs: number;
  busyMs: number;
  /** The functions with the most self time, most first, (idle) left out. */
  top: SelfTimeRow[];
  /** Set when the file could not be read or parsed. */
  error?: string;
}

function threadOf(file: string): string {
  const m = /^CPU\.\d+\.\d+\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(path.basename(file));
  if (!m) return "unknown thread";
  return m[1] === "0" ? "main thread" : `worker thread ${m[1]}`;
}

/**
 * Every .cpuprofile written for `scenarios` under `cpuProfDir`, main
 * thread first, each with its `top` functions by self time. Never throws:
 * an unreadable file is listed with its error.
 */
export function summariseProfiles(cpuProfDir: string, scenarios: Scenario[], top: number): ProfileSummary[] {
  const out: ProfileSummary[] = [];
  for (const scenario of scenarios) {
    const dir = profileDir(cpuProfDir, scenario);
    if (!existsSync(dir)) continue;
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => path.join(dir, f))
      .sort(
        (a, b) => Number(threadOf(a) !== "main thread") - Number(threadOf(b) !== "main thread") || a.localeCompare(b),
      );
    for (const file of files) {
      const thread = threadOf(file);
      try {
        // One more than asked, then (idle) left out: the list is about the busy time.
        const s = summarise([file], top + 1);
        const busy = s.functions.filter((r) => r.function !== "(idle)").slice(0, top);
        out.push({ scenario: scenario.name, file, thread, totalMs: s.totalMs, busyMs: s.busyMs, top: busy });
      } catch (error) {
        const message = (error as Error).message;
        out.push({ scenario: scenario.name, file, thread, totalMs: 0, busyMs: 0, top: [], error: message });
      }
    }
  }
  return out;
}
