/** The Exchanges page (`#/exchanges?…`): every exchange, newest first or errors first, with the same filters. */
import { html } from "htm/preact";
import type { VNode } from "preact";
import type { ExchangeSummary, Page } from "../../../src/browse/types.js";
import { type Column, DataTable } from "../components/data-table.js";
import { FilterBar, filterQuery } from "../components/filter-bar.js";
import { ErrorBox, Loading } from "../components/states.js";
import { StatusBadge } from "../components/status.js";
import { clip, formatInt, formatMs, formatUsd, formatUtc } from "../format.js";
import { hrefFor, navigate, type Route } from "../router.js";
import { useApi } from "../use-api.js";

const COLUMNS: Column<ExchangeSummary>[] = [
  {
    label: "Time",
    cell: (x) => html`<a href=${hrefFor("exchanges", x.id)}>${formatUtc(x.datetimeUtc)}</a>`,
    className: "nowrap",
  },
  { label: "Status", cell: (x) => html`<${StatusBadge} status=${x.status} httpStatus=${x.httpStatus} />` },
  { label: "Model", cell: (x) => x.model, className: "nowrap" },
  {
    label: "Prompt",
    cell: (x) => html`<span title=${x.error ?? ""}>${clip(x.promptPreview, 80)}</span>`,
    className: "wide",
  },
  { label: "Protocol", cell: (x) => x.protocol ?? "—" },
  { label: "Tenant", cell: (x) => x.tenantId ?? "—" },
  {
    label: "Tokens in → out",
    cell: (x) => `${formatInt(x.inputTokens)} → ${formatInt(x.outputTokens)}`,
    className: "num",
  },
  { label: "Duration", cell: (x) => formatMs(x.durationMs), className: "num" },
  { label: "Cost", cell: (x) => formatUsd(x.costUsd), className: "num" },
  {
    label: "Conversation",
    cell: (x) => (x.conversationId ? html`<a href=${hrefFor("conversations", x.conversationId)}>open</a>` : "—"),
  },
];

/** The page. */
export function ExchangesPage({ route }: { route: Route }): VNode {
  const filters = filterQuery(route.query);
  const order = route.query.get("order") === "errors-first" ? "errors-first" : "newest";
  const cursor = route.query.get("cursor") ?? undefined;
  const orderParam = order === "errors-first" ? order : undefined;
  const page = useApi<Page<ExchangeSummary>>("exchanges", { ...filters, order, cursor });
  const go = (q: Record<string, string | undefined>): void => navigate(hrefFor("exchanges", null, q));
  return html`<section class="page" aria-busy=${page.loading ? "true" : "false"}>
    <h1>Exchanges</h1>
    <${FilterBar}
      query=${route.query}
      onChange=${(q: Record<string, string | undefined>) => go({ ...q, order: orderParam })}
    />
    <label class="toggle">
      <input
        type="checkbox"
        name="errors-first"
        checked=${order === "errors-first"}
        onChange=${(e: Event) => go({ ...filters, order: (e.currentTarget as HTMLInputElement).checked ? "errors-first" : undefined })}
      />
      Errors first
    </label>
    ${page.error ? html`<${ErrorBox} message=${page.error} />` : null}
    ${
      page.data
        ? html`<${DataTable}
            columns=${COLUMNS}
            rows=${page.data.items}
            rowKey=${(x: ExchangeSummary) => x.id}
            rowClass=${(x: ExchangeSummary) => `row-${x.status}`}
            noun="exchanges"
            count=${page.data.count}
            nextHref=${page.data.nextCursor ? hrefFor("exchanges", null, { ...filters, order: orderParam, cursor: page.data.nextCursor }) : null}
            firstHref=${cursor ? hrefFor("exchanges", null, { ...filters, order: orderParam }) : null}
          />`
        : page.error
          ? null
          : html`<${Loading} />`
    }
  </section>`;
}
