/** The Exchange page (`#/exchanges/<id>`): the turn, its attempts on a time line, the raw request and response. */
import { html } from "htm/preact";
import type { VNode } from "preact";
import type { AttemptView, ExchangeDetail } from "../../../src/browse/types.js";
import { ErrorBox, Loading } from "../components/states.js";
import { StatusBadge } from "../components/status.js";
import { Timeline } from "../components/timeline.js";
import { RawJson, TurnView } from "../components/turn-view.js";
import { formatMs } from "../format.js";
import { hrefFor } from "../router.js";
import { useApi } from "../use-api.js";

function AttemptsTable({ attempts }: { attempts: AttemptView[] }): VNode {
  return html`<div class="table-wrap">
    <table class="data-table attempts">
      <thead>
        <tr>
          <th>#</th>
          <th>Status</th>
          <th>Deployment</th>
          <th>Provider</th>
          <th>Upstream model</th>
          <th class="num">Started</th>
          <th class="num">Duration</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        ${attempts.map(
          (a) =>
            html`<tr>
              <td>${a.attempt}</td>
              <td><${StatusBadge} status=${a.status} httpStatus=${a.httpStatus} /></td>
              <td>${a.deployment ?? "—"}</td>
              <td>${a.provider ?? "—"}</td>
              <td>${a.upstreamModel ?? a.model ?? "—"}</td>
              <td class="num">+${formatMs(a.startedMs)}</td>
              <td class="num">${formatMs(a.durationMs)}</td>
              <td class="error-text">${a.error ?? ""}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** The page. */
export function ExchangePage({ id }: { id: string }): VNode {
  const loaded = useApi<ExchangeDetail>(`exchanges/${encodeURIComponent(id)}`);
  const back = html`<a class="back" href=${hrefFor("exchanges")}>← Exchanges</a>`;
  if (loaded.error) return html`<section class="page">${back}<${ErrorBox} message=${loaded.error} /></section>`;
  if (!loaded.data) return html`<section class="page">${back}<${Loading} /></section>`;
  const detail = loaded.data;
  const x = detail.turn.exchange;
  return html`<section class="page exchange">
    ${back}
    <h1>Exchange ${x.id}</h1>
    ${x.conversationId ? html`<p><a href=${`${hrefFor("conversations", x.conversationId)}`}>Open its conversation</a></p>` : null}
    <h2>Attempts</h2>
    <${Timeline} attempts=${detail.attempts} />
    <${AttemptsTable} attempts=${detail.attempts} />
    <h2>Turn</h2>
    <${TurnView} turn=${detail.turn} index=${0} title="Messages and answer" raw=${false} />
    <h2>Raw JSON</h2>
    <details class="raw" open>
      <summary>Request and response</summary>
      <${RawJson} detail=${detail} />
    </details>
  </section>`;
}
