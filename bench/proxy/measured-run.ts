/**
 * One load run with the machine's CPU accounted around it: optionally wait
 * for other processes to go quiet, run the load generator, wait for the
 * proxy to drain (its record queue written out), and split the CPU used
 * meanwhile between the proxy, the mock, the load generator, this
 * orchestrator and everything else (from /proc, see proc(5)).
 */
import { readFileSync } from "node:fs";
import type { Options, Scenario } from "./cli-options.js";
import type { LoadResult } from "./loadgen.js";
import { runLoad, sleep } from "./processes.js";

const CLK_TCK = 100;

/**
 * CPU time a process used so far, all its threads: utime + stime of
 * /proc/PID/stat (fields 14 and 15, in clock ticks; proc(5),
 * https://man7.org/linux/man-pages/man5/proc.5.html), ms; null when unreadable.
 * With `thread: "main"`, the main thread's only (the request path; the rest is the record worker and V8's helpers).
 */
function processCpuMs(pid: number | undefined, thread?: "main"): number | null {
  if (pid === undefined) return null;
  try {
    // /proc/PID/task/PID/stat is the main thread's alone (the thread whose id is the process's).
    const stat = readFileSync(thread === "main" ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

/**
 * Busy CPU time of the whole machine so far (all cores: user, nice, system, steal), ms.
 * irq/softirq are left out: loopback traffic is processed there and belongs to no process.
 */
function machineBusyMs(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [, user, nice, system, , , , , steal] = line.trim().split(/\s+/).map(Number);
  return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (steal ?? 0)) * 1000) / CLK_TCK;
}

function selfCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** CPU used by the processes of this benchmark. */
function benchCpuMs(pids: (number | undefined)[]): number {
  return pids.reduce<number>((sum, pid) => sum + (processCpuMs(pid) ?? 0), selfCpuMs());
}

/**
 * Waits until processes outside the benchmark use less than 15% of one core
 * (sampled over 0.5 s), at most `maxS` seconds. Returns the seconds waited
 * and the last foreign load seen (% of one core).
 */
async function waitForQuiet(
  maxS: number,
  pids: (number | undefined)[],
): Promise<{ waitedS: number; foreignPct: number }> {
  const start = Date.now();
  for (;;) {
    const busy0 = machineBusyMs();
    const ours0 = benchCpuMs(pids);
    const t0 = Date.now();
    await sleep(500);
    const wall = Date.now() - t0;
    const foreignPct = (100 * (machineBusyMs() - busy0 - (benchCpuMs(pids) - ours0))) / wall;
    if (foreignPct < 15 || Date.now() - start >= maxS * 1000)
      return { waitedS: (Date.now() - start) / 1000, foreignPct };
  }
}

/** What the machine did during one load run. */
export interface RunCpu {
  /** From the start of the load to the end of the drain, ms. */
  wallMs: number;
  /** Of which the drain after the load (the proxy's record queue written out), ms; 0 for direct runs. */
  drainMs: number;
  /**
   * CPU of the proxy (all threads: request path and record worker) from the start of the load
   * (warm-up included) to the end of the drain, ms; null when unreadable.
   */
  proxyCpuMs: number | null;
  /** `proxyCpuMs` per response the load generator read (warm-up included), µs; null when unknown. */
  proxyCpuUsPerRequest: number | null;
  /**
   * Of `proxyCpuUsPerRequest`, the proxy's main thread (the request path), µs; the rest is its other threads
   * (the record worker, V8's compiler and GC helpers); null when unknown.
   */
  proxyMainCpuUsPerRequest: number | null;
  mockCpuMs: number | null;
  loadgenCpuMs: number;
  /** CPU used by processes outside the benchmark during the run, % of one core. */
  foreignCpuPct: number;
  /** Seconds waited for the machine to go quiet before the run, and the foreign load then. */
  quietWaitS: number;
  foreignPctBefore: number;
}

/** The load generator's figures for one run and the CPU accounting around it. */
export interface Measured {
  load: LoadResult;
  cpu: RunCpu;
}

/**
 * Runs the load generator once against `url` (the mock for a direct run,
 * the proxy for a proxied one), after waiting up to `--quiet-wait` for the
 * machine to go quiet, then `drain` (for a proxied run: until the proxy's
 * record queue is written out), and accounts the CPU used meanwhile.
 * Rejects when the load generator fails.
 */
export async function measuredRun(
  url: string,
  scenario: Scenario,
  options: Options,
  pinned: boolean,
  mockPid: number | undefined,
  proxyPid: number | undefined,
  drain?: () => Promise<void>,
): Promise<Measured> {
  const quiet =
    options.quietWaitS > 0
      ? await waitForQuiet(options.quietWaitS, [mockPid, proxyPid])
      : { waitedS: 0, foreignPct: Number.NaN };
  const t0 = Date.now();
  const busy0 = machineBusyMs();
  const self0 = selfCpuMs();
  const mock0 = processCpuMs(mockPid);
  const proxy0 = processCpuMs(proxyPid);
  const main0 = processCpuMs(proxyPid, "main");
  const load = await runLoad(url, scenario, options, pinned);
  const loadEnd = Date.now();
  if (drain) await drain();
  const wallMs = Date.now() - t0;
  const drainMs = t0 + wallMs - loadEnd;
  const busy = machineBusyMs() - busy0;
  const self = selfCpuMs() - self0;
  const mock1 = processCpuMs(mockPid);
  const proxy1 = processCpuMs(proxyPid);
  const main1 = processCpuMs(proxyPid, "main");
  const mockCpuMs = mock0 !== null && mock1 !== null ? mock1 - mock0 : null;
  const proxyCpuMs = proxy0 !== null && proxy1 !== null ? proxy1 - proxy0 : null;
  const foreign = busy - self - (mockCpuMs ?? 0) - (proxyCpuMs ?? 0) - load.cpuMs;
  return {
    load,
    cpu: {
      wallMs,
      drainMs,
      proxyCpuMs,
      proxyCpuUsPerRequest:
        proxyCpuMs !== null && load.all.completed > 0 ? (proxyCpuMs * 1000) / load.all.completed : null,
      proxyMainCpuUsPerRequest:
        main0 !== null && main1 !== null && load.all.completed > 0
          ? ((main1 - main0) * 1000) / load.all.completed
          : null,
      mockCpuMs,
      loadgenCpuMs: load.cpuMs,
      foreignCpuPct: Math.max(0, (100 * foreign) / wallMs),
      quietWaitS: quiet.waitedS,
      foreignPctBefore: quiet.foreignPct,
    },
  };
}
