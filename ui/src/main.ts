/**
 * The conversation browser's entry point (issue 21): the page frame (navigation, logout) and the hash
 * router (`#/conversations`, `#/conversations/<id>`, `#/exchanges`, `#/exchanges/<id>`, `#/usage`,
 * `#/bench`, `#/live`), mounted into `#app`. Served by the proxy at `/ui/`; it fetches only `/ui/*`.
 */
import { html } from "htm/preact";
import { render, type VNode } from "preact";
import { BenchPage } from "./pages/bench.js";
import { ConversationPage } from "./pages/conversation.js";
import { ConversationsPage } from "./pages/conversations.js";
import { ExchangePage } from "./pages/exchange.js";
import { ExchangesPage } from "./pages/exchanges.js";
import { LivePage } from "./pages/live.js";
import { UsagePage } from "./pages/usage.js";
import type { UiInfo } from "./api.js";
import { Loading } from "./components/states.js";
import { hrefFor, type PageName, type Route, useRoute } from "./router.js";
import { useApi } from "./use-api.js";

const NAV: { page: PageName; label: string }[] = [
  { page: "conversations", label: "Conversations" },
  { page: "exchanges", label: "Exchanges" },
  { page: "usage", label: "Usage" },
  { page: "bench", label: "Bench" },
  { page: "live", label: "Live" },
];

/** Shown for `#/live` where nothing is proxied (`llm-relay ui`): nothing can be in flight. */
function NoLive(): VNode {
  return html`<section class="page live">
    <h1>Live</h1>
    <p class="empty">
      This server only browses the records (<code>llm-relay ui</code>): nothing passes through it, so nothing is in
      flight. The proxy's own <code>/ui/</code> has the Live page.
    </p>
  </section>`;
}

function Content({ route, live }: { route: Route; live: boolean | null }): VNode {
  switch (route.page) {
    case "conversations":
      return route.id === null
        ? html`<${ConversationsPage} route=${route} />`
        : html`<${ConversationPage} key=${route.id} id=${route.id} limit=${route.query.get("limit") ?? undefined} />`;
    case "exchanges":
      return route.id === null
        ? html`<${ExchangesPage} route=${route} />`
        : html`<${ExchangePage} key=${route.id} id=${route.id} />`;
    case "usage":
      return html`<${UsagePage} route=${route} />`;
    case "bench":
      return html`<${BenchPage} />`;
    case "live":
      return live === null ? html`<${Loading} />` : live ? html`<${LivePage} />` : html`<${NoLive} />`;
  }
}

function App(): VNode {
  const route = useRoute();
  const info = useApi<UiInfo>("info");
  // Null until /ui/api/info answers (the Live page waits for it; the menu shows it meanwhile).
  const live = info.data ? info.data.live : info.error ? true : null;
  return html`<header class="top">
      <a class="brand" href=${hrefFor("conversations")}>llm-relay</a>
      <nav class="main-nav">
        ${NAV.filter((item) => live !== false || item.page !== "live").map(
          (item) =>
            html`<a
              href=${hrefFor(item.page)}
              class=${item.page === route.page ? "active" : ""}
              aria-current=${item.page === route.page ? "page" : undefined}
              >${item.label}</a
            >`,
        )}
      </nav>
      <form class="logout" method="post" action="/ui/logout"><button type="submit" class="link">Log out</button></form>
    </header>
    <main><${Content} route=${route} live=${live} /></main>`;
}

const root = document.getElementById("app");
if (root) render(html`<${App} />`, root);
