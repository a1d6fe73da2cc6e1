/**
 * One exchange in progress: its identity, its timings and the pending
 * record it becomes once it ends. The request path only takes times and
 * keeps the raw upstream output; parsing, token estimation and
 * serialisation happen later, in the recorder's batch.
 */
import { performance } from "node:perf_hooks";
import type { ChatCompletionRequest } from "../protocol/chat-request.js";
import { deploymentLabel, type Route } from "../routing/router.js";
import {
  MAX_CLIENT_CHARS,
  type AttemptRecord,
  type ExchangeAccount,
  type PendingExchange,
} from "../recording/types.js";
import { newUlid } from "../recording/ulid.js";
import { deploymentPrices } from "../catalog/cost.js";
import type { ExchangeOutcome } from "./outcome.js";
import { startTime } from "./start-clock.js";
import type { AdaptedProtocol } from "../protocol/inbound.js";

/** Response header naming the deployment that answered (or the last one tried): config key, `#n` when the model has several. */
export const DEPLOYMENT_HEADER = "x-llm-relay-deployment";
/** Response header with the number of upstream attempts made (retries and fallbacks included). */
export const ATTEMPTS_HEADER = "x-llm-relay-attempts";

/** Timing and identity of one chat-completion exchange. */
export class Exchange {
  /** Lowercase ULID of the response/turn. */
  readonly id: string;
  private readonly start = startTime();
  /** Wall-clock start, ms since the epoch. */
  readonly startedAt = this.start.ms;
  /** Wall-clock start, µs since the epoch (in the ms of `startedAt`). */
  readonly startedAtUs = this.start.us;
  private readonly t0 = performance.now();
  private ttft: number | null = null;
  /** ms spent waiting on the upstream or on a slow client (not the proxy's own time). */
  private waited = 0;
  /** The route of the latest attempt (the deployment that answered, once one did); null until routed. */
  route: Route | null = null;
  /** Every upstream attempt, in order (filled by the dispatcher). */
  readonly attempts: AttemptRecord[] = [];
  /** Tenant, API key and ledger booking, from the request's admission (`exchangeAccount`); null outside the server (library calls). */
  account: ExchangeAccount | null = null;
  /**
   * For a protocol other than Chat Completions: the protocol and the client's body as received
   * (`body` is then its chat translation). Null for chat.
   */
  inbound: { protocol: AdaptedProtocol; request: Record<string, unknown> } | null = null;
  /** The client's `User-Agent` (cut to {@link MAX_CLIENT_CHARS} characters by {@link clientOf}), or null when it sent none. */
  client: string | null = null;
  /** The tool convention the latest attempt's raw-completion provider used (`ProviderCompletion.toolConvention`), or null. */
  toolConvention: string | null = null;

  /**
   * @param rawBody the body's JSON text as the client sent it, when known (the server keeps it); lets
   *   {@link upstreamJson} send it upstream without serialising the body again
   */
  constructor(
    readonly requestId: string,
    readonly body: ChatCompletionRequest,
    private readonly rawBody: string | null = null,
  ) {
    this.id = newUlid(this.startedAt);
  }

  /** Whether the client asked for a stream. */
  get stream(): boolean {
    return this.body.stream === true;
  }

  /**
   * The body to send upstream on `route`: the client's, with the route's
   * upstream model and, for streams, `stream_options.include_usage` (so
   * usage is always known) unless the deployment turns it off.
   */
  upstreamBody(route: Route): ChatCompletionRequest {
    const body = { ...this.body, model: route.upstreamModel };
    if (this.stream && route.deployment.stream_usage)
      body.stream_options = { ...(this.body.stream_options ?? {}), include_usage: true };
    return body;
  }

  /**
   * {@link upstreamBody} as JSON text made from the client's own bytes,
   * when that needs no serialisation: the route's upstream model is the
   * model the client named, and the stream's `include_usage` is already set,
   * not wanted, or added by splicing `"stream_options":{"include_usage":true}`
   * into a body that has no `stream_options`. Undefined otherwise (the
   * provider serialises {@link upstreamBody}).
   */
  upstreamJson(route: Route): string | undefined {
    const raw = this.rawBody;
    if (raw === null || route.upstreamModel !== this.body.model) return undefined;
    if (!this.stream || !route.deployment.stream_usage || this.body.stream_options?.include_usage === true) return raw;
    if (this.body.stream_options !== undefined) return undefined;
    const end = raw.lastIndexOf("}");
    return end < 0 ? undefined : `${raw.slice(0, end)},"stream_options":{"include_usage":true}${raw.slice(end)}`;
  }

  /**
   * The `x-llm-relay-*` routing headers of the answer: the deployment that
   * answered (or was tried last; absent when none was) and the attempt count.
   */
  routingHeaders(): Record<string, string> {
    const headers: Record<string, string> = { [ATTEMPTS_HEADER]: String(this.attempts.length) };
    if (this.route) headers[DEPLOYMENT_HEADER] = headerSafe(deploymentLabel(this.route));
    return headers;
  }

  /** Marks the first output sent to the client (TTFT). */
  markFirstToken(): void {
    this.ttft ??= performance.now() - this.t0;
  }

  /**
   * Awaits `promise`, counting the time as waiting (on the upstream or the
   * client), so that it is left out of the proxy's overhead.
   */
  async wait<T>(promise: Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await promise;
    } finally {
      this.waited += performance.now() - start;
    }
  }

  /** ms since the exchange began. */
  elapsedMs(): number {
    return performance.now() - this.t0;
  }

  /** ms spent in the proxy itself so far. */
  overheadMs(): number {
    return Math.max(0, this.elapsedMs() - this.waited);
  }

  /** `{ prices }` when the route's deployment sets its own prices (the record's cost uses them), else nothing. */
  private pricesOfRoute(): { prices?: PendingExchange["prices"] } {
    const prices = this.route ? deploymentPrices(this.route.deployment) : null;
    return prices ? { prices } : {};
  }

  /** The pending record of this exchange, for the recorder. */
  toPending(outcome: ExchangeOutcome): PendingExchange {
    return {
      id: this.id,
      requestId: this.requestId,
      startedAt: this.startedAt,
      startedAtUs: this.startedAtUs,
      durationMs: Math.round(this.elapsedMs()),
      ttftMs: this.ttft === null ? null : Math.round(this.ttft),
      overheadMs: Math.round(this.overheadMs() * 1000) / 1000,
      requestedModel: this.body.model,
      provider: this.route?.deployment.provider ?? null,
      deployment: this.route ? deploymentLabel(this.route) : null,
      upstreamModel: this.route?.upstreamModel ?? null,
      ...this.pricesOfRoute(),
      requestBody: this.body,
      ...(this.inbound ? { protocol: this.inbound.protocol, receivedBody: this.inbound.request } : {}),
      ...(this.toolConvention !== null ? { toolConvention: this.toolConvention } : {}),
      ...(this.client !== null ? { client: this.client } : {}),
      messages: this.body.messages,
      stream: this.stream,
      httpStatus: outcome.httpStatus,
      status: outcome.status,
      error: outcome.error,
      output: outcome.output,
      errorJson: outcome.errorJson === null ? null : { ...outcome.errorJson },
      errorClass: outcome.errorClass,
      attempts: this.attempts,
      tenantId: this.account?.tenantId ?? null,
      keyId: this.account?.keyId ?? null,
      billing: this.account?.billing ?? null,
      ...(outcome.output === null && typeof outcome.promptTokens === "number"
        ? { refusedPromptTokens: outcome.promptTokens }
        : {}),
    };
  }
}

/** `text` as is when it is printable ASCII, else percent-encoded (header values cannot carry other characters). */
function headerSafe(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : encodeURIComponent(text);
}

/**
 * The client's `User-Agent` header as a record keeps it (`ExchangeRecord.client`): at most
 * {@link MAX_CLIENT_CHARS} characters, the first value when repeated; null when absent or empty.
 */
export function clientOf(userAgent: string | string[] | undefined): string | null {
  const value = Array.isArray(userAgent) ? userAgent[0] : userAgent;
  if (value === undefined || value === "") return null;
  return value.length > MAX_CLIENT_CHARS ? value.slice(0, MAX_CLIENT_CHARS) : value;
}
