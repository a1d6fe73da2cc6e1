/**
 * A list page's table: columns of cells, rows that link to their detail page, the bounded count
 * ("10,000+ conversations") and "Next page" by cursor.
 */
import { html } from "htm/preact";
import type { ComponentChildren, VNode } from "preact";
import type { BoundedCount } from "../../../src/browse/types.js";
import { formatCount } from "../format.js";

/** One column: its heading and how a row's cell reads. */
export interface Column<T> {
  label: string;
  cell: (row: T) => ComponentChildren;
  /** Extra class of the column's cells (`num` right-aligns). */
  className?: string;
}

interface DataTableProps<T> {
  columns: Column<T>[];
  rows: T[];
  /** The row's key. */
  rowKey: (row: T) => string;
  /** What the rows are (`conversations`), for the count line and the empty message. */
  noun: string;
  count: BoundedCount | null;
  /** The next page's href, or null on the last page. */
  nextHref: string | null;
  /** The first page's href when this is a later page, else null. */
  firstHref: string | null;
  /** An extra class of a row (e.g. its status). */
  rowClass?: (row: T) => string;
}

/** The table, its count line and its pager (class `data-table`). */
export function DataTable<T>(props: DataTableProps<T>): VNode {
  const countText = props.count
    ? `${formatCount(props.count)} ${props.noun}`
    : `${props.rows.length} ${props.noun} on this page`;
  return html`<div class="table-block">
    <div class="table-meta"><span class="count">${countText}</span></div>
    ${
      props.rows.length === 0
        ? html`<p class="empty">No ${props.noun} match.</p>`
        : html`<div class="table-wrap">
            <table class="data-table">
              <thead>
                <tr>
                  ${props.columns.map((c) => html`<th class=${c.className ?? ""}>${c.label}</th>`)}
                </tr>
              </thead>
              <tbody>
                ${props.rows.map(
                  (row) =>
                    html`<tr key=${props.rowKey(row)} class=${props.rowClass?.(row) ?? ""}>
                      ${props.columns.map((c) => html`<td class=${c.className ?? ""}>${c.cell(row)}</td>`)}
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
    <nav class="pager">
      ${props.firstHref ? html`<a class="button secondary" href=${props.firstHref}>First page</a>` : null}
      ${props.nextHref ? html`<a class="button" href=${props.nextHref}>Next page</a>` : null}
    </nav>
  </div>`;
}
