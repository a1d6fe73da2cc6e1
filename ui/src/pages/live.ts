/**
 * The Live page (`#/live`): the exchanges in flight, the recorder's queue and `/health`, from the
 * `snapshot` events of `GET /ui/api/live` (an EventSource; updates without reload, reconnects by itself).
 */
import { html } from "htm/preact";
import type { VNode } from "preact";
import { useEffect, useState } from "preact/hooks";
import { LOGIN_PATH, type LiveSnapshot } from "../api.js";
import { JsonView } from "../components/json-view.js";
import { formatInt, formatMs } from "../format.js";
import { hrefFor } from "../router.js";

type Connection = "connecting" | "open" | "lost";

/** Follows `/ui/api/live`: the latest snapshot, when it came (epoch ms), and the connection's state. */
function useLive(): { snapshot: LiveSnapshot | null; receivedAt: number; connection: Connection } {
  const [state, setState] = useState<{ snapshot: LiveSnapshot | null; receivedAt: number; connection: Connection }>({
    snapshot: null,
    receivedAt: 0,
    connection: "connecting",
  });
  useEffect(() => {
    const source = new EventSource("/ui/api/live");
    source.addEventListener("snapshot", (event: MessageEvent<string>) => {
      const snapshot = JSON.parse(event.data) as LiveSnapshot;
      setState({ snapshot, receivedAt: Date.now(), connection: "open" });
    });
    source.addEventListener("error", () => {
      setState((previous) => ({ ...previous, connection: "lost" }));
      // A 401 closes the stream for good: the login cookie is gone.
      if (source.readyState === EventSource.CLOSED)
        void fetch("/ui/api/info").then((r) => {
          if (r.status === 401) location.href = LOGIN_PATH;
        });
    });
    return () => source.close();
  }, []);
  return state;
}

/** Re-renders every `ms`. */
function useTick(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** The page. */
export function LivePage(): VNode {
  const { snapshot, receivedAt, connection } = useLive();
  const now = useTick(500);
  const since = Math.max(0, now - receivedAt);
  return html`<section class="page live">
    <h1>
      Live
      <span class=${`connection connection-${connection}`}>${connection === "open" ? "connected" : connection}</span>
    </h1>
    <h2>In flight</h2>
    ${
      !snapshot
        ? html`<p class="loading">Waiting for the first snapshot…</p>`
        : snapshot.inFlight.length === 0
          ? html`<p class="empty in-flight-empty">Nothing in flight.</p>`
          : html`<div class="table-wrap">
              <table class="data-table in-flight">
                <thead>
                  <tr>
                    <th>Exchange</th>
                    <th>Model</th>
                    <th>Protocol</th>
                    <th>Tenant</th>
                    <th>Kind</th>
                    <th class="num">Elapsed</th>
                  </tr>
                </thead>
                <tbody>
                  ${snapshot.inFlight.map(
                    (x) =>
                      html`<tr key=${x.id}>
                        <td>
                          <a href=${hrefFor("exchanges", x.id)}><code>${x.id}</code></a>
                        </td>
                        <td>${x.model}</td>
                        <td>${x.protocol}</td>
                        <td>${x.tenant ?? "—"}</td>
                        <td>${x.streaming ? "stream" : "JSON"}</td>
                        <td class="num">${formatMs(x.elapsedMs + since)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
    }
    <div class="live-panels">
      <div class="panel">
        <h2>Recorder</h2>
        ${
          snapshot
            ? html`<p class="recorder-queue">
                <strong>${formatInt(snapshot.recorderQueued)}</strong>
                ${snapshot.recorderQueued === 1 ? " exchange" : " exchanges"} waiting to be written
              </p>`
            : null
        }
      </div>
      <div class="panel">
        <h2>Health</h2>
        ${snapshot ? html`<${JsonView} value=${snapshot.health} />` : null}
      </div>
    </div>
  </section>`;
}
