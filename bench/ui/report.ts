/**
 * The bench's output: per store, a line per query (rows shown, p50, p95,
 * max in ms, and whether it meets the target of 100 ms), as an aligned text
 * table and as Markdown, plus the fill lines.
 */
import type { Prepared } from "./prepare.js";
import { targetLabel } from "./prepare.js";
import type { Timing } from "./timing.js";

/** Every page's query should answer within this, ms. */
export const TARGET_MS = 100;

/** One query's line. */
export interface QueryLine {
  label: string;
  rows: number;
  timing: Timing;
}

/** `met` when the slowest run (max) is under the target, `NOT met` otherwise. */
export function verdict(t: Timing): string {
  return t.max < TARGET_MS ? "met" : "NOT met";
}

const ms = (n: number): string => n.toFixed(n < 10 ? 2 : 1);

const HEADER = ["query", "rows", "runs", "p50 ms", "p95 ms", "max ms", `target < ${TARGET_MS} ms`];

function cells(lines: readonly QueryLine[]): string[][] {
  return lines.map((l) => [
    l.label,
    String(l.rows),
    String(l.timing.runs),
    ms(l.timing.p50),
    ms(l.timing.p95),
    ms(l.timing.max),
    verdict(l.timing),
  ]);
}

/** The aligned text table of one store's queries. */
export function textTable(lines: readonly QueryLine[]): string {
  const rows = cells(lines);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (c: string[]): string =>
    c.map((v, i) => (i === 0 || i === 6 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ");
  return [line(HEADER), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The same table in Markdown. */
export function markdownTable(lines: readonly QueryLine[]): string {
  const row = (c: string[]): string => `| ${c.join(" | ")} |`;
  return [row(HEADER), row(["---", "---:", "---:", "---:", "---:", "---:", "---"]), ...cells(lines).map(row)].join(
    "\n",
  );
}

const mb = (bytes: number): string => `${(bytes / 1e6).toLocaleString("en-US", { maximumFractionDigits: 0 })} MB`;

/** The fill line of one store. */
export function fillLine(p: Prepared): string {
  const size = `${p.exchanges.toLocaleString("en-US")} exchanges, ${mb(p.bytes)} on disk`;
  if (p.method === null || p.fillMs === null) return `${targetLabel(p.target)}: reused (${size})`;
  const rate = (ms: number): string => Math.round(p.exchanges / (ms / 1000)).toLocaleString("en-US");
  const inStore =
    p.writeMs !== null ? `, writeBatch ${(p.writeMs / 1000).toFixed(0)} s = ${rate(p.writeMs)} exchanges/s` : "";
  return `${targetLabel(p.target)}: ${p.method} in ${(p.fillMs / 1000).toFixed(0)} s (${rate(p.fillMs)} exchanges/s${inStore}), ${size}`;
}
