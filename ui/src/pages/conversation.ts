/** The Conversation page (`#/conversations/<id>`): its turns as chat, and the `llm -c` command to continue it. */
import { html } from "htm/preact";
import type { VNode } from "preact";
import type { ConversationDetail } from "../../../src/browse/types.js";
import type { UiInfo } from "../api.js";
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
export function ConversationPage({ id }: { id: string }): VNode {
  const loaded = useApi<ConversationDetail>(`conversations/${encodeURIComponent(id)}`);
  const info = useApi<UiInfo>("info");
  const back = html`<a class="back" href=${hrefFor("conversations")}>← Conversations</a>`;
  if (loaded.error) return html`<section class="page">${back}<${ErrorBox} message=${loaded.error} /></section>`;
  if (!loaded.data) return html`<section class="page">${back}<${Loading} /></section>`;
  const { summary: s, turns, truncated } = loaded.data;
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
    ${truncated ? html`<p class="notice">Only the first ${formatInt(turns.length)} turns are shown.</p>` : null}
    <div class="turns">
      ${turns.map((turn, index) => html`<${TurnView} key=${turn.exchange.id} turn=${turn} index=${index} />`)}
    </div>
  </section>`;
}
