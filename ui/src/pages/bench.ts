/** The Bench page (`#/bench`): the bench runs in the store, each with a link to its HTML report. */
import { html } from "htm/preact";
import type { VNode } from "preact";
import type { BenchRunView } from "../api.js";
import { ErrorBox, Loading } from "../components/states.js";
import { StatusBadge } from "../components/status.js";
import { formatInt, formatUtc } from "../format.js";
import { useApi } from "../use-api.js";

/** The page. */
export function BenchPage(): VNode {
  const runs = useApi<BenchRunView[]>("bench/runs");
  return html`<section class="page bench">
    <h1>Bench runs</h1>
    ${runs.error ? html`<${ErrorBox} message=${runs.error} />` : null}
    ${!runs.data && !runs.error ? html`<${Loading} />` : null}
    ${runs.data && runs.data.length === 0 ? html`<p class="empty">No bench run yet (<code>llm-relay bench</code> records one).</p>` : null}
    ${
      runs.data && runs.data.length > 0
        ? html`<div class="table-wrap">
            <table class="data-table">
              <thead>
                <tr>
                  <th>Run</th>
                  <th>Created</th>
                  <th>Finished</th>
                  <th>Status</th>
                  <th>Candidates</th>
                  <th class="num">Cases</th>
                  <th class="num">Results</th>
                  <th class="num">Errors</th>
                  <th>Report</th>
                </tr>
              </thead>
              <tbody>
                ${runs.data.map(
                  (r) =>
                    html`<tr>
                      <td><code>${r.id}</code></td>
                      <td class="nowrap">${formatUtc(r.created)}</td>
                      <td class="nowrap">${formatUtc(r.finished)}</td>
                      <td><${StatusBadge} status=${r.status} /></td>
                      <td>${r.candidates.join(", ")}</td>
                      <td class="num">${formatInt(r.cases)}</td>
                      <td class="num">${formatInt(r.results)}</td>
                      <td class="num">${formatInt(r.errors)}</td>
                      <td>
                        <a href=${`/ui/bench/${encodeURIComponent(r.id)}/report`} target="_blank" rel="noopener"
                          >report</a
                        >
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : null
    }
  </section>`;
}
