/** The terminal table of a run's report: one row per candidate. */
import { formatUsd } from "../../catalog/format-usd.js";
import { renderTable } from "../../cli/text-table.js";
import type { BenchReport, CandidateSummary } from "./summary.js";

/** The column headers and cells of the candidate table (shared by the terminal and HTML reports). */
export function summaryTable(report: BenchReport): { header: string[]; rows: string[][] } {
  const header = [
    "candidate",
    "ok/n",
    "TTFT p50",
    "TTFT p95",
    "total p50",
    "total p95",
    "tok/s",
    "cost",
    "errors",
    "edit sim",
    "token F1",
    ...report.checks,
    "judge",
  ];
  const rows = report.candidates.map((c) => [
    c.candidate,
    `${c.results - c.errors}/${c.results}`,
    ms(c.ttftMs.p50),
    ms(c.ttftMs.p95),
    ms(c.totalMs.p50),
    ms(c.totalMs.p95),
    tokensPerSecondCell(c.tokensPerSecond),
    cost(c),
    percent(c.errorRate),
    score(c.meanEditSimilarity),
    score(c.meanTokenF1),
    ...report.checks.map((name) => percent(c.checkPassRates[name] ?? 0)),
    c.judgeMean === null ? "-" : `${c.judgeMean.toFixed(1)}/10`,
  ]);
  return { header, rows };
}

/** A tokens/s figure, or `—` when there is none (no plausible generation rate: see `throughput.ts`). */
export function tokensPerSecondCell(value: number | null): string {
  return value === null ? NO_RATE : value.toFixed(1);
}

/** What stands for a refused tokens/s figure. */
export const NO_RATE = "—";

function ms(value: number | null): string {
  return value === null ? "-" : `${Math.round(value)} ms`;
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(0)}%`;
}

function score(value: number | null): string {
  return value === null ? "-" : value.toFixed(3);
}

function cost(c: CandidateSummary): string {
  if (c.costUsd === null) return "-";
  return `${formatUsd(c.costUsd)}${c.costEstimated ? "~" : ""}${c.costPartial ? "+?" : ""}`;
}

/** The report as text: a heading line, the table, and a legend. */
export function formatTerminalReport(report: BenchReport): string {
  const { header, rows } = summaryTable(report);
  const table = renderTable(header, rows, {
    align: header.map((_, i) => (i === 0 ? "left" : "right")),
    headerRule: true,
  });
  const r = report.run;
  const lines = [
    `bench run ${r.id} (${r.status}): ${r.cases} case(s), ${r.candidates.length} candidate(s), ${r.settings.repeat} repeat(s); ${r.results}/${r.tasks} result(s)`,
    "",
    table.slice(0, -1),
    "",
    "times are over successful answers; tok/s = output tokens / (total − TTFT), median, — when no answer has a plausible figure; " +
      "edit sim = 1 − normalized edit distance to the reference; checks = pass rate over all results; ~ = cost from estimated tokens",
  ];
  return `${lines.join("\n")}\n`;
}
