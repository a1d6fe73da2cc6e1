/**
 * A stacked bar chart per day (Chart.js, only the bar parts registered; bundled as a chunk of the app, loaded
 * from the proxy on first use, nothing fetched elsewhere). Chart.js sizes its canvas through the CSSOM, which
 * the page's CSP allows; the box's height is a class.
 */
import { html } from "htm/preact";
import type { VNode } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

/** One stacked series: its name and one value per label. */
export interface BarSeries {
  name: string;
  values: number[];
}

/** Distinct, readable colours for the series, in order. */
const PALETTE = [
  "#2563eb",
  "#16a34a",
  "#d97706",
  "#9333ea",
  "#dc2626",
  "#0891b2",
  "#4b5563",
  "#db2777",
  "#65a30d",
  "#7c3aed",
];

interface BarChartProps {
  /** The chart's title (also the canvas's accessible name). */
  title: string;
  /** One label per bar (days). */
  labels: string[];
  series: BarSeries[];
  /** Formats a value for the axis and the tooltip. */
  format: (value: number) => string;
}

/** The chart (a `<canvas>` in a `chart-box`). */
export function BarChart({ title, labels, series, format }: BarChartProps): VNode {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    let chart: { destroy(): void } | null = null;
    let current = true;
    import("./chart-setup.js").then(
      ({ Chart }) => {
        if (!current || !canvas.current) return;
        chart = new Chart(canvas.current, {
          type: "bar",
          data: {
            labels,
            datasets: series.map((s, i) => ({
              label: s.name,
              data: s.values,
              backgroundColor: PALETTE[i % PALETTE.length],
              borderWidth: 0,
            })),
          },
          options: {
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            scales: {
              x: { stacked: true, grid: { display: false } },
              y: { stacked: true, beginAtZero: true, ticks: { callback: (value) => format(Number(value)) } },
            },
            plugins: {
              legend: { position: "bottom", labels: { boxWidth: 12 } },
              tooltip: { callbacks: { label: (item) => `${item.dataset.label ?? ""}: ${format(Number(item.raw))}` } },
            },
          },
        });
      },
      (error: unknown) => setFailure(error instanceof Error ? error.message : String(error)),
    );
    return () => {
      current = false;
      chart?.destroy();
    };
  }, [labels, series, format]);
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    ${failure ? html`<p class="error">The chart could not load: ${failure}</p>` : null}
    <div class="chart-box"><canvas ref=${canvas} role="img" aria-label=${title}></canvas></div>
  </figure>`;
}
