/**
 * Books exchanges in the usage ledger and settles their rate-limit
 * reservations, from the recorder's hooks (off the request path, once the
 * tokens and cost are known). Never fails a request: errors are logged.
 *
 * One ledger row per billable exchange (the upstream produced an answer,
 * whole or partial; an exchange refused before any answer costs nothing):
 * chat exchanges as `token_type: llm`, embeddings as `embedding`.
 */
import type { Logger } from "pino";
import type { RateLimiter } from "../ratelimit/index.js";
import type { ExchangeSummary } from "../recording/record-writer.js";
import type { EmbeddingExchange, ExchangeBilling } from "../recording/types.js";
import type { TenancyStore } from "../tenancy/store.js";
import type { UsageEvent } from "../tenancy/types.js";

/** Books usage for one server. */
export class UsageBooking {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly tenancy: TenancyStore,
    private readonly limiter: RateLimiter,
    private readonly logger: Logger,
  ) {}

  /** Books a chat exchange (the recorder's `onRecorded`). */
  readonly onRecorded = (summary: ExchangeSummary): void => {
    const billing = summary.billing;
    if (!billing) return;
    const billable = summary.billable === true;
    const usage = billable ? summary.usage : null;
    const tokens = usage ? usage.input + usage.output : 0;
    const event: UsageEvent | null = billable
      ? {
          tenantId: summary.tenantId ?? undefined,
          keyId: summary.keyId ?? null,
          model: summary.requestedModel,
          provider: summary.provider,
          tokenType: "llm",
          operation: billing.operation,
          inputTokens: usage?.input ?? 0,
          outputTokens: usage?.output ?? 0,
          costUsd: summary.costUsd ?? null,
          estimated: usage?.estimated ?? false,
          metadata: { request_id: summary.requestId, response_id: summary.id, deployment: summary.deployment, status: summary.status },
        }
      : null;
    this.track(this.book(event, billing, summary.id, summary.keyId ?? null, tokens));
  };

  /** Books an embedding exchange (the recorder's `onEmbeddingRecorded`). */
  readonly onEmbeddingRecorded = (record: EmbeddingExchange): void => {
    const billing = record.billing;
    if (!billing) return;
    const tokens = record.inputTokens ?? 0;
    const event: UsageEvent | null =
      record.inputTokens === null
        ? null
        : {
            tenantId: record.tenantId ?? undefined,
            keyId: record.keyId,
            model: record.requestedModel,
            provider: record.provider,
            tokenType: "embedding",
            operation: billing.operation,
            inputTokens: record.inputTokens,
            outputTokens: 0,
            costUsd: record.costUsd,
            estimated: record.usageEstimated,
            metadata: { request_id: record.requestId, embedding_id: record.id, deployment: record.deployment, status: record.status },
          };
    this.track(this.book(event, billing, record.id, record.keyId, tokens));
  };

  /** Resolves once every booking started so far has finished (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /**
   * Writes the row (when billable) and corrects the reservation. A request-id key
   * already in the ledger belongs to another exchange (a client reusing its
   * `x-request-id`): this one is booked under `<key>/<exchange id>`.
   */
  private async book(event: UsageEvent | null, billing: ExchangeBilling, exchangeId: string, keyId: string | null, tokens: number): Promise<void> {
    if (billing.reservationId !== null && keyId !== null) {
      try {
        await this.limiter.settle(keyId, { reservationId: billing.reservationId, actualTokens: tokens });
      } catch (error) {
        this.logger.error({ err: error, keyId }, "cannot settle the rate-limit reservation");
      }
    }
    if (!event) return;
    try {
      const first = await this.tenancy.ledger.record({ ...event, idempotencyKey: billing.ledgerKey });
      const ownRow = first.row.metadata?.response_id === exchangeId || first.row.metadata?.embedding_id === exchangeId;
      if (first.duplicate && !billing.fromIdempotencyKey && !ownRow) {
        await this.tenancy.ledger.record({ ...event, idempotencyKey: `${billing.ledgerKey}/${exchangeId}` });
      }
    } catch (error) {
      this.logger.error({ err: error, ledgerKey: billing.ledgerKey }, "cannot write the usage ledger row");
    }
  }
}
