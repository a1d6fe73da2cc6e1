/**
 * One exchange in progress: its identity, its timings and the pending
 * record it becomes once it ends. The request path only takes times and
 * keeps the raw upstream output; parsing, token estimation and
 * serialisation happen later, in the recorder's batch.
 */
import { performance } from "node:perf_hooks";
import type { ChatCompletionRequest } from "../protocol/chat-request.js";
import type { ErrorClass } from "../protocol/errors.js";
import type { Route } from "../routing/router.js";
import type { ExchangeStatus, PendingExchange, RawOutput } from "../recording/types.js";
import { newUlid } from "../recording/ulid.js";

/** How an exchange ended. */
export interface ExchangeOutcome {
  status: ExchangeStatus;
  /** HTTP status the client saw. */
  httpStatus: number;
  /** The upstream's answer, raw; null when there was none. */
  output: RawOutput | null;
  /** The error body sent (as the response or in-band), or null. */
  errorJson: Record<string, unknown> | null;
  error: string | null;
  errorClass: ErrorClass | null;
}

/** Timing and identity of one chat-completion exchange. */
export class Exchange {
  /** Lowercase ULID of the response/turn. */
  readonly id: string;
  /** Wall-clock start, ms since the epoch. */
  readonly startedAt = Date.now();
  private readonly t0 = performance.now();
  private ttft: number | null = null;
  /** ms spent waiting on the upstream or on a slow client (not the proxy's own time). */
  private waited = 0;
  route: Route | null = null;

  constructor(
    readonly requestId: string,
    readonly body: ChatCompletionRequest,
  ) {
    this.id = newUlid(this.startedAt);
  }

  /** Whether the client asked for a stream. */
  get stream(): boolean {
    return this.body.stream === true;
  }

  /**
   * The body to send upstream: the client's, with the route's upstream model
   * and, for streams, `stream_options.include_usage` (so usage is always known).
   * Call after `route` is set.
   */
  upstreamBody(): ChatCompletionRequest {
    const route = this.route!;
    const body = { ...this.body, model: route.upstreamModel };
    if (this.stream && route.deployment.stream_usage) body.stream_options = { ...(this.body.stream_options ?? {}), include_usage: true };
    return body;
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

  /** The pending record of this exchange, for the recorder. */
  toPending(outcome: ExchangeOutcome): PendingExchange {
    return {
      id: this.id,
      requestId: this.requestId,
      startedAt: this.startedAt,
      durationMs: Math.round(this.elapsedMs()),
      ttftMs: this.ttft === null ? null : Math.round(this.ttft),
      overheadMs: Math.round(this.overheadMs() * 1000) / 1000,
      requestedModel: this.body.model,
      provider: this.route?.deployment.provider ?? null,
      deployment: this.route?.deploymentName ?? null,
      upstreamModel: this.route?.upstreamModel ?? null,
      requestBody: this.body,
      messages: this.body.messages,
      stream: this.stream,
      httpStatus: outcome.httpStatus,
      status: outcome.status,
      error: outcome.error,
      output: outcome.output,
      errorJson: outcome.errorJson,
      errorClass: outcome.errorClass,
    };
  }
}
