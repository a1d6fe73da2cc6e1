/** An exchange's status as a coloured badge (classes `status status-<status>`). */
import { html } from "htm/preact";
import type { VNode } from "preact";

/** A status badge; `httpStatus` is shown beside it when it is not 200. */
export function StatusBadge({ status, httpStatus }: { status: string; httpStatus?: number | null }): VNode {
  const code = httpStatus && httpStatus !== 200 ? ` ${httpStatus}` : "";
  return html`<span class=${`status status-${status}`}>${status}${code}</span>`;
}
