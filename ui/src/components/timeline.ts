/**
 * The attempts of an exchange on a time line: one bar per attempt from its `startedMs` for its
 * `durationMs`, coloured by status. Drawn in SVG (geometry as attributes: no inline styles, which the
 * page's CSP forbids).
 */
import { html } from "htm/preact";
import type { VNode } from "preact";
import type { AttemptView } from "../../../src/browse/types.js";
import { formatMs } from "../format.js";

const WIDTH = 1000;
const ROW = 26;
const LABEL = 190;

/** The attempts as bars over the exchange's time (class `timeline`). */
export function Timeline({ attempts }: { attempts: AttemptView[] }): VNode {
  if (attempts.length === 0) return html`<p class="muted">No upstream attempt was recorded.</p>`;
  const end = Math.max(1, ...attempts.map((a) => a.startedMs + a.durationMs));
  const scale = (WIDTH - LABEL - 90) / end;
  const height = attempts.length * ROW + 20;
  return html`<svg class="timeline" viewBox=${`0 0 ${WIDTH} ${height}`} role="img" aria-label="attempts on a time line">
    ${attempts.map((a, i) => {
      const y = i * ROW + 4;
      const x = LABEL + a.startedMs * scale;
      const w = Math.max(2, a.durationMs * scale);
      // A bar ending near the right edge has its label on its left.
      const labelLeft = x + w + 140 > WIDTH;
      return html`<g class=${`attempt attempt-${a.status}`}>
        <text class="timeline-label" x="0" y=${y + 14}>#${a.attempt} ${a.deployment ?? a.model ?? ""}</text>
        <rect x=${x} y=${y} width=${w} height=${ROW - 8} rx="3"
          ><title>${`#${a.attempt} ${a.status} ${formatMs(a.durationMs)}`}</title></rect
        >
        <text
          class="timeline-value"
          x=${labelLeft ? x - 6 : x + w + 6}
          y=${y + 14}
          text-anchor=${labelLeft ? "end" : "start"}
          >${a.status}${a.httpStatus ? ` ${a.httpStatus}` : ""} · ${formatMs(a.durationMs)}</text
        >
      </g>`;
    })}
    <line class="timeline-axis" x1=${LABEL} x2=${WIDTH - 90} y1=${height - 12} y2=${height - 12} />
    <text class="timeline-tick" x=${LABEL} y=${height - 1}>0</text>
    <text class="timeline-tick" x=${WIDTH - 90} y=${height - 1} text-anchor="end">${formatMs(end)}</text>
  </svg>`;
}
