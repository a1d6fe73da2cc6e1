/**
 * The HTML report: one self-contained file (no network: Chart.js's UMD
 * build and the data are inlined) with the candidate table, a latency
 * distribution chart per candidate, cost versus quality, and every case
 * side by side — the reference and each candidate's answer with its
 * timings, scores and checks.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { formatUsd } from "../../catalog/format-usd.js";
import { escapeHtml } from "../../html-escape.js";
import { CLIENT_SCRIPT } from "./html-client.js";
import { costRestsOnEstimate, type BenchReport, type CaseAnswer, type CaseReport } from "./summary.js";
import { summaryTable, tokensPerSecondCell } from "./terminal.js";

/** Chart.js's UMD build (`chart.js/dist/chart.umd.js`), read once. */
let chartSource: string | null = null;
function chartJs(): string {
  if (chartSource === null) {
    const require = createRequire(import.meta.url);
    const entry = require.resolve("chart.js"); // …/chart.js/dist/chart.cjs
    chartSource = fs.readFileSync(path.join(path.dirname(entry), "chart.umd.js"), "utf8");
  }
  return chartSource;
}

/** Inline `<script>` code: a closing tag inside (in a string) must not end the element. */
function scriptSafe(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1");
}

/** JSON for a `<script type="application/json">`: every `<` escaped (only strings hold one), so no tag can end it. */
function jsonSafe(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #111827; background: #f9fafb; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: #4b5563; margin-bottom: 16px; }
div.table-wrap { overflow-x: auto; max-width: 100%; }
table.summary { border-collapse: collapse; background: #fff; }
table.summary th, table.summary td { border: 1px solid #d1d5db; padding: 4px 8px; text-align: right; white-space: nowrap; }
table.summary th:first-child, table.summary td:first-child { text-align: left; }
table.summary th { background: #f3f4f6; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.charts canvas { background: #fff; border: 1px solid #e5e7eb; }
section.case { background: #fff; border: 1px solid #d1d5db; border-radius: 6px; padding: 12px; margin: 12px 0; }
section.case h3 { font-size: 15px; margin: 0 0 6px; }
.columns { display: grid; grid-template-columns: repeat(var(--columns), minmax(260px, 1fr)); gap: 10px; overflow-x: auto; }
.answer { border: 1px solid #e5e7eb; border-radius: 4px; padding: 8px; min-width: 0; }
.answer.reference { background: #f0fdf4; } .answer.failed { background: #fef2f2; }
.answer h4 { margin: 0 0 4px; font-size: 14px; }
.answer pre { white-space: pre-wrap; word-break: break-word; max-height: 420px; overflow: auto; background: #f9fafb; padding: 6px; margin: 6px 0 0; font-size: 12px; }
.badges { display: flex; flex-wrap: wrap; gap: 4px; font-size: 12px; }
.badge { background: #eef2ff; border-radius: 3px; padding: 0 5px; }
.pass { color: #15803d; } .fail { color: #b91c1c; }
.error { color: #b91c1c; font-weight: 600; }
details summary { cursor: pointer; color: #374151; }
`;

function badge(text: string, title = ""): string {
  return `<span class="badge"${title ? ` title="${escapeHtml(title)}"` : ""}>${escapeHtml(text)}</span>`;
}

function answerCell(answer: CaseAnswer): string {
  const badges = [
    answer.ttftMs === null ? "" : badge(`TTFT ${Math.round(answer.ttftMs)} ms`),
    badge(`total ${Math.round(answer.totalMs)} ms`),
    badge(`${answer.inputTokens}+${answer.outputTokens}${answer.usageEstimated ? "~" : ""} tok`),
    answer.error !== null
      ? ""
      : badge(
          `${tokensPerSecondCell(answer.tokensPerSecond)} tok/s`,
          answer.tokensPerSecond === null
            ? "no plausible generation rate (see the README)"
            : "output tokens / (total − TTFT)",
        ),
    answer.costUsd === null ? "" : badge(`${formatUsd(answer.costUsd)}${costRestsOnEstimate(answer) ? "~" : ""}`),
    answer.editSimilarity === null ? "" : badge(`edit sim ${answer.editSimilarity.toFixed(3)}`),
    answer.tokenF1 === null ? "" : badge(`F1 ${answer.tokenF1.toFixed(3)}`),
    answer.judge?.grade != null ? badge(`judge ${answer.judge.grade}/10`, answer.judge.rationale) : "",
  ].join("");
  const checks = answer.checks
    .map(
      (c) =>
        `<li class="${c.pass ? "pass" : "fail"}">${c.pass ? "✓" : "✗"} ${escapeHtml(c.name)} <small>${escapeHtml(c.detail)}</small></li>`,
    )
    .join("");
  const judge = answer.judge
    ? `<details><summary>judge: ${answer.judge.grade ?? "no grade"}${answer.judge.error ? ` (${escapeHtml(answer.judge.error)})` : ""}</summary><p>${escapeHtml(answer.judge.rationale)}</p></details>`
    : "";
  return `<div class="answer${answer.error ? " failed" : ""}" data-candidate="${escapeHtml(answer.candidate)}">
<h4>${escapeHtml(answer.candidate)}${answer.repeat > 0 ? ` <small>(repeat ${answer.repeat + 1})</small>` : ""}</h4>
<div class="badges">${badges}</div>
${answer.error ? `<p class="error">${escapeHtml(answer.error)}</p>` : ""}
${checks ? `<ul class="checks">${checks}</ul>` : ""}${judge}
<pre>${escapeHtml(answer.output)}</pre>
</div>`;
}

function caseSection(c: CaseReport, index: number): string {
  const columns = 1 + c.answers.length;
  return `<section class="case" id="case-${escapeHtml(c.caseId)}">
<h3>case ${index + 1}: ${escapeHtml(c.caseId)} <small>${escapeHtml(c.model)} · ${escapeHtml(c.datetimeUtc.slice(0, 19).replace("T", " "))} · ${c.messageCount} messages</small></h3>
<details><summary>request: ${escapeHtml(oneLine(c.prompt, 120))}</summary><pre>${escapeHtml(c.prompt)}</pre></details>
<div class="columns" style="--columns: ${columns}">
<div class="answer reference"><h4>reference (${escapeHtml(c.model)})</h4><pre>${escapeHtml(c.reference)}</pre></div>
${c.answers.map(answerCell).join("\n")}
</div>
</section>`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * What the quality chart's x axis shows: each candidate's total cost, or — when every candidate
 * costs the same (all $0, all unpriced), which would stack them on one vertical line — its median
 * total time (ms). An unpriced candidate counts as $0, as the chart plots it.
 */
export function qualityChartAxis(report: Pick<BenchReport, "candidates">): "cost" | "latency" {
  const costs = report.candidates.map((c) => c.costUsd ?? 0);
  return costs.every((cost) => cost === costs[0]) ? "latency" : "cost";
}

/** The whole page. */
export function renderHtmlReport(report: BenchReport): string {
  const { header, rows } = summaryTable(report);
  const table = `<table class="summary" id="summary"><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>
<tbody>${rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join("")}</tr>`).join("\n")}</tbody></table>`;
  const latency = report.candidates
    .map(
      (c, i) =>
        `<canvas class="latency-chart" data-index="${i}" data-candidate="${escapeHtml(c.candidate)}" width="520" height="300"></canvas>`,
    )
    .join("\n");
  const r = report.run;
  const data = jsonSafe(report);
  const axis = qualityChartAxis(report);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>llm-relay bench ${escapeHtml(r.id)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>llm-relay bench ${escapeHtml(r.id)}</h1>
<div class="meta">${escapeHtml(r.status)} · created ${escapeHtml(r.createdUtc.slice(0, 19).replace("T", " "))} UTC · ${r.cases} case(s) × ${r.candidates.length} candidate(s) × ${r.settings.repeat} repeat(s) · ${r.results}/${r.tasks} result(s)${r.settings.judge ? ` · judge ${escapeHtml(r.settings.judge)}` : ""}</div>
<h2>Candidates</h2>
<div class="table-wrap">${table}</div>
<h2>Latency distribution</h2>
<div class="charts">${latency}</div>
<h2>${axis === "cost" ? "Cost versus quality" : "Quality versus latency"}</h2>
<div class="charts"><canvas id="quality-chart" data-x-axis="${axis}" width="640" height="340"></canvas></div>
<h2>Cases side by side</h2>
${report.cases.map(caseSection).join("\n")}
<script type="application/json" id="bench-data">${data}</script>
<script>${scriptSafe(chartJs())}</script>
<script>${scriptSafe(CLIENT_SCRIPT)}</script>
</body>
</html>
`;
}
