/** The Conversations page: newest last activity first, with search and filters (`#/conversations?…`). */
import { html } from "htm/preact";
import type { VNode } from "preact";
import type { ConversationSummary, Page } from "../../../src/browse/types.js";
import { type Column, DataTable } from "../components/data-table.js";
import { FilterBar, filterQuery } from "../components/filter-bar.js";
import { ErrorBox, Loading } from "../components/states.js";
import { StatusBadge } from "../components/status.js";
import { clip, formatInt, formatUsd, formatUtc } from "../format.js";
import { hrefFor, navigate, type Route } from "../router.js";
import { useApi } from "../use-api.js";

const COLUMNS: Column<ConversationSummary>[] = [
  { label: "Last activity", cell: (c) => formatUtc(c.lastUtc), className: "nowrap" },
  {
    label: "Conversation",
    cell: (c) => html`<a href=${hrefFor("conversations", c.id)}>${clip(c.name, 90) || c.id}</a>`,
    className: "wide",
  },
  { label: "Model", cell: (c) => c.model ?? "—" },
  { label: "Protocol", cell: (c) => c.protocol ?? "—" },
  { label: "Client", cell: (c) => html`<span title=${c.client ?? ""}>${clip(c.client, 28) || "—"}</span>` },
  { label: "Tenant", cell: (c) => c.tenantId ?? "—" },
  { label: "Turns", cell: (c) => formatInt(c.turns), className: "num" },
  {
    label: "Tokens in → out",
    cell: (c) => `${formatInt(c.inputTokens)} → ${formatInt(c.outputTokens)}`,
    className: "num",
  },
  { label: "Cost", cell: (c) => formatUsd(c.costUsd), className: "num" },
  { label: "Last status", cell: (c) => html`<${StatusBadge} status=${c.lastStatus} />` },
];

/** The page. */
export function ConversationsPage({ route }: { route: Route }): VNode {
  const filters = filterQuery(route.query);
  const cursor = route.query.get("cursor") ?? undefined;
  const page = useApi<Page<ConversationSummary>>("conversations", { ...filters, cursor });
  return html`<section class="page" aria-busy=${page.loading ? "true" : "false"}>
    <h1>Conversations</h1>
    <${FilterBar}
      query=${route.query}
      onChange=${(q: Record<string, string | undefined>) => navigate(hrefFor("conversations", null, q))}
    />
    ${page.error ? html`<${ErrorBox} message=${page.error} />` : null}
    ${
      page.data
        ? html`<${DataTable}
            columns=${COLUMNS}
            rows=${page.data.items}
            rowKey=${(c: ConversationSummary) => c.id}
            noun="conversations"
            count=${page.data.count}
            nextHref=${page.data.nextCursor ? hrefFor("conversations", null, { ...filters, cursor: page.data.nextCursor }) : null}
            firstHref=${cursor ? hrefFor("conversations", null, filters) : null}
          />`
        : page.error
          ? null
          : html`<${Loading} />`
    }
  </section>`;
}
