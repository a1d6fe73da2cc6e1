/** Issue 6's targets, evaluated on the scenarios' results. */
import { fmt, type ScenarioResult } from "./summary.js";

/** One target checked on one scenario. */
export interface TargetResult {
  target: string;
  scenario: string;
  /** false for the recording-off variants: shown for information only. */
  counts: boolean;
  pass: boolean | null;
  figures: string;
}

/**
 * Checks issue 6's targets on every scenario they apply to (failed
 * scenarios skipped), then the record check of every scenario.
 * `pass` is null where a target cannot be judged (unpinned c50, unknown RSS).
 */
export function evaluateTargets(results: ScenarioResult[], pinned: boolean): TargetResult[] {
  const out: TargetResult[] = [];
  for (const s of results) {
    if (s.error) continue;
    const counts = s.record;
    if (!s.stream && s.concurrency === 1)
      out.push({
        target: "non-stream c1: added p50 latency ≤ 0.2 ms",
        scenario: s.name,
        counts,
        pass: s.addedP50TotalMs <= 0.2,
        figures: `direct ${fmt(s.direct.p50TotalMs)} ms, proxy ${fmt(s.proxy.p50TotalMs)} ms, added ${fmt(s.addedP50TotalMs)} ms (paired median ${fmt(s.addedP50TotalMsPaired)})`,
      });
    if (s.stream && s.concurrency === 1)
      out.push({
        target: "stream c1: added p50 TTFB ≤ 0.3 ms",
        scenario: s.name,
        counts,
        pass: s.addedP50TtfbMs <= 0.3,
        figures: `direct ${fmt(s.direct.p50TtfbMs)} ms, proxy ${fmt(s.proxy.p50TtfbMs)} ms, added ${fmt(s.addedP50TtfbMs)} ms (paired median ${fmt(s.addedP50TtfbMsPaired)})`,
      });
    if (s.concurrency === 50)
      out.push({
        target: "c50 pinned: proxy RPS ≥ 35% of direct",
        scenario: s.name,
        counts: counts && pinned,
        pass: pinned ? s.ratio.rps >= 0.35 : null,
        figures: `direct ${fmt(s.direct.rps, 0)} rps, proxy ${fmt(s.proxy.rps, 0)} rps, ratio ${fmt(s.ratio.rps * 100, 1)}%${pinned ? "" : " (not pinned: not applicable)"}`,
      });
    if (s.concurrency === 200) {
      out.push({
        target: "c200: zero errors",
        scenario: s.name,
        counts,
        pass: s.proxyErrors === 0 && s.directErrors === 0,
        figures: `proxy errors ${s.proxyErrors}, direct errors ${s.directErrors} (all runs, warm-up included)`,
      });
      out.push({
        target: "c200: p99 ≤ 4 × direct p99",
        scenario: s.name,
        counts,
        pass: s.ratio.p99TotalMs <= 4,
        figures: `direct ${fmt(s.direct.p99TotalMs)} ms, proxy ${fmt(s.proxy.p99TotalMs)} ms, ratio ${fmt(s.ratio.p99TotalMs, 2)}`,
      });
      out.push({
        target: "c200: peak RSS ≤ 150 MB",
        scenario: s.name,
        counts,
        pass: s.peakRssMb !== null ? s.peakRssMb <= 150 : null,
        figures: `peak RSS ${fmt(s.peakRssMb, 1)} MB`,
      });
    }
  }
  for (const s of results) {
    const runs = s.runs.map((r) => `${r.recorded}/${r.expectedRecorded}`).join(" ");
    out.push({
      target: s.record ? "recorded == completed after every run" : "nothing recorded with recording off",
      scenario: s.name,
      counts: true,
      pass: s.recordedOk,
      figures: s.error ? `scenario failed: ${s.error}` : `recorded/expected per run: ${runs}`,
    });
  }
  return out;
}
