/**
 * One turn of a conversation: its metadata line (model asked and resolved, deployment, attempts, TTFT,
 * duration, overhead, tokens with cached and reasoning, cost, status, error), the messages it added,
 * the answer, and its raw request/response JSON one click away (loaded from `/ui/api/exchanges/<id>`
 * when opened).
 */
import { html } from "htm/preact";
import type { VNode } from "preact";
import { useState } from "preact/hooks";
import type { ExchangeDetail, ExchangeSummary, TurnView as Turn } from "../../../src/browse/types.js";
import { formatInt, formatMs, formatUsd, formatUtc } from "../format.js";
import { hrefFor } from "../router.js";
import { useApi } from "../use-api.js";
import { JsonView } from "./json-view.js";
import { MessageView } from "./message-view.js";
import { ErrorBox, Loading } from "./states.js";
import { StatusBadge } from "./status.js";

function Fact({ label, value }: { label: string; value: string }): VNode {
  return html`<span class="fact"><span class="fact-label">${label}</span> ${value}</span>`;
}

/** Tokens as `in 46 (cached 40) → out 12 (reasoning 8)`, `~` when estimated. */
export function tokenText(x: ExchangeSummary): string {
  const approx = x.usageEstimated ? "~" : "";
  const cached = x.cachedTokens ? ` (cached ${formatInt(x.cachedTokens)})` : "";
  const reasoning = x.reasoningTokens ? ` (reasoning ${formatInt(x.reasoningTokens)})` : "";
  return `${approx}${formatInt(x.inputTokens)}${cached} → ${approx}${formatInt(x.outputTokens)}${reasoning}`;
}

/** The metadata of an exchange (class `turn-meta`). */
export function ExchangeFacts({ exchange: x }: { exchange: ExchangeSummary }): VNode {
  const resolved = x.resolvedModel && x.resolvedModel !== x.model ? ` → ${x.resolvedModel}` : "";
  if (x.status === "history")
    return html`<div class="turn-meta">
      <${StatusBadge} status="history" />
      <${Fact} label="model" value=${`${x.model}${resolved}`} />
      <span class="fact muted">from the chat history the client sent; not an exchange through this proxy</span>
    </div>`;
  return html`<div class="turn-meta">
    <${StatusBadge} status=${x.status} httpStatus=${x.httpStatus} />
    <${Fact} label="model" value=${`${x.model}${resolved}`} />
    ${x.deployment ? html`<${Fact} label="deployment" value=${x.deployment} />` : null}
    ${x.provider ? html`<${Fact} label="provider" value=${x.provider} />` : null}
    ${x.protocol ? html`<${Fact} label="protocol" value=${`${x.protocol}${x.stream ? " · stream" : ""}`} />` : null}
    <${Fact} label="attempts" value=${formatInt(x.attempts)} />
    <${Fact} label="TTFT" value=${formatMs(x.ttftMs)} />
    <${Fact} label="duration" value=${formatMs(x.durationMs)} />
    <${Fact} label="overhead" value=${formatMs(x.overheadMs)} />
    <${Fact} label="tokens" value=${tokenText(x)} />
    <${Fact} label="cost" value=${formatUsd(x.costUsd)} />
    ${x.finishReason ? html`<${Fact} label="finish" value=${x.finishReason} />` : null}
    ${x.tenantId ? html`<${Fact} label="tenant" value=${x.tenantId} />` : null}
    ${x.keyId ? html`<${Fact} label="key" value=${x.keyId} />` : null}
    ${x.client ? html`<${Fact} label="client" value=${x.client} />` : null}
    <span class="fact muted">${formatUtc(x.datetimeUtc)} UTC</span>
  </div>`;
}

/** The raw request and response of an exchange, as recorded. */
export function RawJson({ detail }: { detail: ExchangeDetail }): VNode {
  return html`<div class="raw-json">
    <h4>Request (as recorded)</h4>
    <${JsonView} value=${detail.requestJson} />
    <h4>Response (as recorded)</h4>
    <${JsonView} value=${detail.responseJson} />
  </div>`;
}

function RawLoader({ id }: { id: string }): VNode {
  const loaded = useApi<ExchangeDetail>(`exchanges/${encodeURIComponent(id)}`);
  if (loaded.error) return html`<${ErrorBox} message=${loaded.error} />`;
  if (!loaded.data) return html`<${Loading} />`;
  return html`<${RawJson} detail=${loaded.data} />`;
}

/**
 * One turn as chat (class `turn`).
 * @param title the heading (default `Turn <index + 1>`)
 * @param raw whether the turn offers its raw JSON (default true)
 */
export function TurnView({
  turn,
  index,
  title,
  raw = true,
}: {
  turn: Turn;
  index: number;
  title?: string;
  raw?: boolean;
}): VNode {
  const [rawOpen, setRawOpen] = useState(false);
  const x = turn.exchange;
  return html`<section class=${`turn turn-${x.status}`} id=${`turn-${x.id}`}>
    <header class="turn-head">
      <h3>${title ?? `Turn ${index + 1}`}</h3>
      <a class="turn-link" href=${hrefFor("exchanges", x.id)}>exchange ${x.id}</a>
    </header>
    <${ExchangeFacts} exchange=${x} />
    ${x.error ? html`<p class="turn-error-message" role="alert">${x.error}</p>` : null}
    <div class="messages">
      ${turn.input.map((message) => html`<${MessageView} message=${message} />`)}
      ${turn.output ? html`<${MessageView} message=${turn.output} />` : html`<p class="muted no-output">No answer was recorded.</p>`}
    </div>
    ${
      raw
        ? html`<details class="raw" onToggle=${(e: Event) => setRawOpen((e.currentTarget as HTMLDetailsElement).open)}>
            <summary>Raw JSON</summary>
            ${rawOpen ? html`<${RawLoader} id=${x.id} />` : null}
          </details>`
        : null
    }
  </section>`;
}
