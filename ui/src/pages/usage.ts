/**
 * The Usage page (`#/usage?by=model&since=…&until=…`): tokens and cost per UTC day, stacked by model,
 * tenant or key (Chart.js bars), the totals per group, and the budgets with what is left.
 */
import { html } from "htm/preact";
import type { VNode } from "preact";
import { useMemo } from "preact/hooks";
import type { UsageGroup, UsageReport, UsageRow } from "../../../src/browse/types.js";
import type { BudgetView } from "../api.js";
import { type BarSeries, BarChart } from "../components/bar-chart.js";
import { ErrorBox, Loading } from "../components/states.js";
import { formatInt, formatUsd } from "../format.js";
import { hrefFor, navigate, type Route } from "../router.js";
import { useApi } from "../use-api.js";

const GROUPS: UsageGroup[] = ["model", "tenant", "key"];

/** The days of `[since, until)`, `YYYY-MM-DD`. */
export function daysBetween(since: string, until: string): string[] {
  const days: string[] = [];
  const end = Date.parse(`${until}T00:00:00Z`);
  for (let t = Date.parse(`${since}T00:00:00Z`); t < end && days.length < 400; t += 86_400_000)
    days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** One series per group over the days, reading `value` of each row. */
function seriesOf(days: string[], rows: UsageRow[], value: (row: UsageRow) => number): BarSeries[] {
  const index = new Map(days.map((day, i) => [day, i]));
  const byGroup = new Map<string, number[]>();
  for (const row of rows) {
    const name = row.group ?? "(none)";
    const values = byGroup.get(name) ?? days.map(() => 0);
    const i = index.get(row.day);
    if (i !== undefined) values[i] = (values[i] ?? 0) + value(row);
    byGroup.set(name, values);
  }
  return [...byGroup].map(([name, values]) => ({ name, values }));
}

interface Total {
  group: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

function totals(rows: UsageRow[]): Total[] {
  const byGroup = new Map<string, Total>();
  for (const row of rows) {
    const group = row.group ?? "(none)";
    const total = byGroup.get(group) ?? { group, requests: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    total.requests += row.requests;
    total.inputTokens += row.inputTokens;
    total.outputTokens += row.outputTokens;
    total.costUsd += row.costUsd;
    byGroup.set(group, total);
  }
  return [...byGroup.values()].sort(
    (a, b) => b.costUsd - a.costUsd || b.inputTokens + b.outputTokens - (a.inputTokens + a.outputTokens),
  );
}

/** A budget period: `30 days`, `12 hours`, `no period`. */
export function formatPeriod(ms: number | null): string {
  if (!ms) return "no period";
  const units: [number, string][] = [
    [86_400_000, "day"],
    [3_600_000, "hour"],
    [60_000, "minute"],
    [1000, "second"],
  ];
  for (const [size, name] of units)
    if (ms >= size && ms % size === 0) return `${ms / size} ${name}${ms / size === 1 ? "" : "s"}`;
  return `${Math.round(ms / 1000)} s`;
}

const formatTokens = (value: number): string => formatInt(value);

function Charts({ report }: { report: UsageReport }): VNode {
  const days = useMemo(() => daysBetween(report.since, report.until), [report]);
  const tokens = useMemo(() => seriesOf(days, report.rows, (r) => r.inputTokens + r.outputTokens), [days, report]);
  const cost = useMemo(() => seriesOf(days, report.rows, (r) => r.costUsd), [days, report]);
  return html`<div class="charts">
    <${BarChart} title=${`Tokens per day by ${report.by}`} labels=${days} series=${tokens} format=${formatTokens} />
    <${BarChart} title=${`Cost per day by ${report.by} (USD)`} labels=${days} series=${cost} format=${formatUsd} />
  </div>`;
}

function TotalsTable({ report }: { report: UsageReport }): VNode {
  const rows = totals(report.rows);
  if (rows.length === 0) return html`<p class="empty">No usage from ${report.since} to ${report.until}.</p>`;
  return html`<div class="table-wrap">
    <table class="data-table totals">
      <thead>
        <tr>
          <th>${report.by}</th>
          <th class="num">Requests</th>
          <th class="num">Input tokens</th>
          <th class="num">Output tokens</th>
          <th class="num">Cost</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (t) =>
            html`<tr>
              <td>${t.group}</td>
              <td class="num">${formatInt(t.requests)}</td>
              <td class="num">${formatInt(t.inputTokens)}</td>
              <td class="num">${formatInt(t.outputTokens)}</td>
              <td class="num">${formatUsd(t.costUsd)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function Budgets(): VNode {
  const budgets = useApi<BudgetView[]>("budgets");
  if (budgets.error) return html`<${ErrorBox} message=${budgets.error} />`;
  if (!budgets.data) return html`<${Loading} />`;
  if (budgets.data.length === 0) return html`<p class="empty">No key or tenant has a budget.</p>`;
  return html`<div class="table-wrap">
    <table class="data-table budgets">
      <thead>
        <tr>
          <th>Scope</th>
          <th>Id</th>
          <th>Tenant</th>
          <th class="num">Budget</th>
          <th>Period</th>
          <th class="num">Spent</th>
          <th class="num">Left</th>
          <th>Used</th>
        </tr>
      </thead>
      <tbody>
        ${budgets.data.map((b) => {
          const used = b.budgetUsd > 0 ? Math.min(100, Math.round((b.spentUsd / b.budgetUsd) * 100)) : 100;
          return html`<tr class=${b.leftUsd <= 0 ? "over-budget" : ""}>
            <td>${b.scope}</td>
            <td>${b.id}</td>
            <td>${b.tenant ?? "—"}</td>
            <td class="num">${formatUsd(b.budgetUsd)}</td>
            <td>${formatPeriod(b.periodMs)}</td>
            <td class="num">${formatUsd(b.spentUsd)}</td>
            <td class="num left">${formatUsd(b.leftUsd)}</td>
            <td><meter min="0" max="100" low="70" high="90" optimum="0" value=${used}>${used}%</meter> ${used}%</td>
          </tr>`;
        })}
      </tbody>
    </table>
  </div>`;
}

/** The page. */
export function UsagePage({ route }: { route: Route }): VNode {
  const q = route.query;
  const by = GROUPS.find((g) => g === q.get("by")) ?? "model";
  const since = q.get("since") ?? undefined;
  const until = q.get("until") ?? undefined;
  const report = useApi<UsageReport>("usage", { by, since, until });
  const go = (change: Record<string, string | undefined>): void =>
    navigate(hrefFor("usage", null, { by, since, until, ...change }));
  return html`<section class="page usage">
    <h1>Usage</h1>
    <form class="filter-bar" onSubmit=${(e: Event) => e.preventDefault()}>
      <label class="filter"
        ><span>Group by</span>
        <select
          name="by"
          value=${by}
          onChange=${(e: Event) => go({ by: (e.currentTarget as HTMLSelectElement).value })}
        >
          ${GROUPS.map((g) => html`<option value=${g}>${g}</option>`)}
        </select>
      </label>
      <label class="filter"
        ><span>Since</span>
        <input
          type="date"
          name="since"
          value=${report.data?.since ?? since ?? ""}
          onChange=${(e: Event) => go({ since: (e.currentTarget as HTMLInputElement).value || undefined })}
        />
      </label>
      <label class="filter"
        ><span>Until (excluded)</span>
        <input
          type="date"
          name="until"
          value=${report.data?.until ?? until ?? ""}
          onChange=${(e: Event) => go({ until: (e.currentTarget as HTMLInputElement).value || undefined })}
        />
      </label>
    </form>
    ${report.error ? html`<${ErrorBox} message=${report.error} />` : null}
    ${report.data ? html`<${Charts} report=${report.data} /><${TotalsTable} report=${report.data} />` : report.error ? null : html`<${Loading} />`}
    <h2>Budgets</h2>
    <${Budgets} />
  </section>`;
}
