/**
 * Runs one scenario: a fresh proxy, warmed by `--proxy-warmup` seconds of
 * unmeasured load, `--repeats` pairs of a direct run (load
 * generator → mock) and a proxied run (load generator → proxy → mock), and
 * after each proxied run the check that the rows it added to
 * `llm_relay_exchanges` equal the responses read (zero with recording off).
 * A proxied run's CPU is counted until its record queue is drained.
 */
import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import type { Options, Scenario } from "./cli-options.js";
import { measuredRun } from "./measured-run.js";
import {
  type Health,
  isInterrupted,
  type Mock,
  peakRssMb,
  type Proxy,
  runLoad,
  startProxy,
  stopProxy,
  waitRecorderIdle,
} from "./processes.js";
import { fmt, type RunPair, type ScenarioResult, summarise } from "./summary.js";

function countExchanges(dbPath: string): number {
  if (!existsSync(dbPath)) return 0;
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'llm_relay_exchanges'").get();
    if (!table) return 0;
    return (db.prepare("SELECT count(*) AS n FROM llm_relay_exchanges").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/**
 * Runs the pairs of one scenario against `mock`, printing a line per pair
 * (and a loud message on a record mismatch), and summarises them. Never
 * throws: a failure ends the scenario and is reported in its result.
 */
export async function runScenario(
  scenario: Scenario,
  options: Options,
  mock: Mock,
  tmp: string,
  pinned: boolean,
): Promise<ScenarioResult> {
  const runs: RunPair[] = [];
  let proxy: Proxy | null = null;
  let peak: number | null = null;
  try {
    proxy = await startProxy(scenario, options, mock.port, tmp, pinned);
    if (options.proxyWarmupS > 0) {
      // Not measured; its exchanges are written before the first pair and left out of the record check.
      await runLoad(
        `http://127.0.0.1:${proxy.port}`,
        scenario,
        { ...options, durationS: options.proxyWarmupS, warmupS: 0 },
        pinned,
      );
      await waitRecorderIdle(proxy.port, 30_000);
    }
    let rowsBefore = countExchanges(proxy.dbPath);
    for (let pair = 1; pair <= options.repeats; pair++) {
      if (isInterrupted()) throw new Error("interrupted");
      const directRun = await measuredRun(
        `http://127.0.0.1:${mock.port}`,
        scenario,
        options,
        pinned,
        mock.child.pid,
        proxy.child.pid,
      );
      const direct = directRun.load;
      if (isInterrupted()) throw new Error("interrupted");
      const port = proxy.port;
      const drained: { health: Health | null } = { health: null };
      // The proxy's CPU is read after the drain: the record worker's writes belong to the run.
      const proxiedRun = await measuredRun(
        `http://127.0.0.1:${port}`,
        scenario,
        options,
        pinned,
        mock.child.pid,
        proxy.child.pid,
        async () => {
          drained.health = await waitRecorderIdle(port, 30_000);
        },
      );
      const proxied = proxiedRun.load;
      const { health } = drained;
      const rss = peakRssMb(proxy.child.pid);
      if (rss !== null) peak = Math.max(peak ?? 0, rss);
      const rowsNow = countExchanges(proxy.dbPath);
      const recorded = rowsNow - rowsBefore;
      rowsBefore = rowsNow;
      const expectedRecorded = scenario.record ? proxied.all.completed : 0;
      const recordedOk = recorded === expectedRecorded && (health?.recorder.failed_writes ?? 0) === 0;
      runs.push({
        pair,
        direct,
        proxy: proxied,
        directCpu: directRun.cpu,
        proxyCpu: proxiedRun.cpu,
        proxyPeakRssMb: rss,
        recorded,
        expectedRecorded,
        recordedOk,
        failedWrites: health?.recorder.failed_writes ?? null,
      });
      const line =
        `  ${scenario.name} pair ${pair}/${options.repeats}: direct ${fmt(direct.rps, 0)} rps p50 ${fmt(direct.p50TotalMs)} ms | ` +
        `proxy ${fmt(proxied.rps, 0)} rps p50 ${fmt(proxied.p50TotalMs)} ms${scenario.stream ? ` ttfb50 ${fmt(direct.p50TtfbMs)}/${fmt(proxied.p50TtfbMs)}` : ""} | ` +
        `proxy CPU ${fmt(proxiedRun.cpu.proxyCpuUsPerRequest, 0)} µs/req (main thread ${fmt(proxiedRun.cpu.proxyMainCpuUsPerRequest, 0)}) | RSS ${fmt(rss, 1)} MB | ` +
        `foreign load ${fmt(directRun.cpu.foreignCpuPct, 0)}%/${fmt(proxiedRun.cpu.foreignCpuPct, 0)}% | recorded ${recorded}/${expectedRecorded}${recordedOk ? "" : "  <<<<<<<< MISMATCH"}` +
        (proxied.all.non200 + proxied.all.exceptions > 0
          ? ` | proxy errors ${proxied.all.non200 + proxied.all.exceptions} (${proxied.all.firstError})`
          : "") +
        (direct.all.non200 + direct.all.exceptions > 0
          ? ` | direct errors ${direct.all.non200 + direct.all.exceptions} (${direct.all.firstError})`
          : "");
      process.stdout.write(`${line}\n`);
      if (!recordedOk)
        process.stderr.write(
          `\n!!! RECORD MISMATCH in ${scenario.name} pair ${pair}: ${recorded} rows added to llm_relay_exchanges, ` +
            `${expectedRecorded} expected (loadgen: ${proxied.all.completed} completed, ${proxied.all.exceptions} exceptions, ` +
            `failed_writes ${health?.recorder.failed_writes ?? "?"}, queued ${health?.recorder.queued ?? "?"}) !!!\n\n`,
        );
    }
    const final = peakRssMb(proxy.child.pid);
    if (final !== null) peak = Math.max(peak ?? 0, final);
    return summarise(scenario, runs, peak);
  } catch (error) {
    const message = (error as Error).message;
    process.stderr.write(`bench: scenario ${scenario.name} failed: ${message}\n`);
    return summarise(scenario, runs, peak, message);
  } finally {
    if (proxy) {
      const code = await stopProxy(proxy);
      if (code !== 0) process.stderr.write(`bench: proxy of ${scenario.name} exited with ${code}: ${proxy.errors()}\n`);
    }
  }
}
