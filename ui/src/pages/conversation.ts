/**
 * The Conversation page (`#/conversations/<id>`, optionally `?limit=N` turns a page): its turns as chat, a page at a
 * time ("Show the next turns" loads the next page by its cursor), and the `llm -c` command to continue it.
 */
import { html } from "htm/preact";
import type { VNode } from "preact";
import { useState } from "preact/hooks";
import type { ConversationDetail, TurnView as Turn } from "../../../src/browse/types.js";
import { apiGet, type UiInfo } from "../api.js";
import { CopyCommand, shellQuote } from "../components/copy-command.js";
import { ErrorBox, Loading } from "../components/states.js";
import { StatusBadge } from "../components/status.js";
import { TurnView } from "../components/turn-view.js";
import { formatInt, formatUsd, formatUtc } from "../format.js";
import { hrefFor } from "../router.js";
import { useApi } from "../use-api.js";

/** `llm -c --cid <id>`, with ` -d <path>` when the proxy records into a SQLite file. */
export function continueCommand(id: string, info: UiInfo | null): string {
  const db = info?.store.path ? ` -d ${shellQuote(info.store.path)}` : "";
  return `llm -c --cid ${shellQuote(id)}${db}`;
}

/** The page. */
export function ConversationPage({ id, limit }: { id: string; limit?: string | undefined }): VNode {
  const path = `conversations/${encodeURIComponent(id)}`;
  const loaded = useApi<ConversationDetail>(path, { limit });
  const info = useApi<UiInfo>("info");
  // Pages loaded after the first: their turns, the cursor after them, and the state of the next load.
  const [more, setMore] = useState<{ turns: Turn[]; next: string | null } | null>(null);
  const [loading, setLoading] = useState<string | null>(null);
  const back = html`<a class="back" href=${hrefFor("conversations")}>← Conversations</a>`;
  if (loaded.error) return html`<section class="page">${back}<${ErrorBox} message=${loaded.error} /></section>`;
  if (!loaded.data) return html`<section class="page">${back}<${Loading} /></section>`;
  const { summary: s } = loaded.data;
  const turns = more ? [...loaded.data.turns, ...more.turns] : loaded.data.turns;
  const next = more ? more.next : loaded.data.nextCursor;
  const loadNext = (cursor: string) => {
    setLoading("loading");
    apiGet<ConversationDetail>(path, { limit, cursor }).then(
      (page) => {
        setMore({ turns: [...(more?.turns ?? []), ...page.turns], next: page.nextCursor });
        setLoading(null);
      },
      (error: unknown) => setLoading(error instanceof Error ? error.message : String(error)),
    );
  };
  return html`<section class="page conversation">
    ${back}
    <h1>${s.name || s.id}</h1>
    <div class="summary-facts">
      <${StatusBadge} status=${s.lastStatus} />
      <span><span class="fact-label">id</span> ${s.id}</span>
      <span><span class="fact-label">model</span> ${s.model ?? "—"}</span>
      <span><span class="fact-label">turns</span> ${formatInt(s.turns)}</span>
      <span><span class="fact-label">tokens</span> ${formatInt(s.inputTokens)} → ${formatInt(s.outputTokens)}</span>
      <span><span class="fact-label">cost</span> ${formatUsd(s.costUsd)}</span>
      <span><span class="fact-label">first</span> ${formatUtc(s.firstUtc)} UTC</span>
      <span><span class="fact-label">last</span> ${formatUtc(s.lastUtc)} UTC</span>
    </div>
    <div class="continue">
      <span class="fact-label">Continue it with llm:</span>
      <${CopyCommand} command=${continueCommand(s.id, info.data)} />
    </div>
    <div class="turns">
      ${turns.map((turn, index) => html`<${TurnView} key=${turn.exchange.id} turn=${turn} index=${index} />`)}
    </div>
    ${
      next !== null
        ? html`<p class="more-turns">
            <span class="notice">${formatInt(turns.length)} of ${formatInt(s.turns)} turns shown.</span>
            <button type="button" disabled=${loading === "loading"} onClick=${() => loadNext(next)}>
              Show the next turns
            </button>
            ${loading !== null && loading !== "loading" ? html`<${ErrorBox} message=${loading} />` : null}
          </p>`
        : null
    }
  </section>`;
}
