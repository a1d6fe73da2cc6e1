/**
 * Books exchanges in the usage ledger and settles their rate-limit
 * reservations, from the recorder's hooks (off the request path, once the
 * tokens and cost are known). Never fails a request: errors are logged.
 *
 * One ledger row per billable exchange (the upstream produced an answer,
 * whole or partial; an exchange refused before any answer costs nothing):
 * chat exchanges as `token_type: llm`, embeddings as `embedding`.
 *
 * A record store with `booksUsage` (SQLite, PostgreSQL) writes a chat
 * exchange's ledger row in its record's own transaction, so a crash never
 * leaves a recorded exchange without its bill: its summary arrives with
 * `ledgerBooked` and only the rate-limit reservation is settled here. This
 * class writes the ledger rows of the others — recording off, a store that
 * does not book, and embeddings — with the same rules (`exchange-usage.ts`).
 *
 * Those ledger rows are written in batches ({@link BOOKING_INTERVAL_MS}, one
 * `recordMany` each): on SQLite the ledger shares the logs.db with the
 * recorder's worker, and one write transaction per exchange on the main
 * thread cost a third of the proxy's throughput at c=50. A batch never waits
 * for the file's lock (better-sqlite3 would wait synchronously, stalling
 * every request for up to the busy timeout while the worker commits): a
 * locked ledger is tried again on a timer (the store's `recordMany` does it).
 */
import type { Logger } from "pino";
import type { RateLimiter } from "../ratelimit/index.js";
import type { ExchangeSummary } from "../recording/record-writer.js";
import type { EmbeddingExchange, ExchangeBilling } from "../recording/types.js";
import { exchangeUsageEvent, rebookingKey } from "../tenancy/exchange-usage.js";
import type { TenancyStore } from "../tenancy/store.js";
import type { UsageEvent } from "../tenancy/types.js";

/** How long ledger rows wait to be written together, in ms. */
export const BOOKING_INTERVAL_MS = 50;
/** Most rows written in one batch. */
const MAX_BATCH = 500;

/** A ledger row waiting for its batch. */
interface QueuedBooking {
  event: UsageEvent;
  billing: ExchangeBilling;
  exchangeId: string;
}

/** Books usage for one server. */
export class UsageBooking {
  private readonly pending = new Set<Promise<void>>();
  private queue: QueuedBooking[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly tenancy: TenancyStore,
    private readonly limiter: RateLimiter,
    private readonly logger: Logger,
  ) {}

  /** Books a chat exchange (the recorder's `onRecorded`): settles its reservation, and writes its ledger row unless the store did. */
  readonly onRecorded = (summary: ExchangeSummary): void => {
    const billing = summary.billing;
    if (!billing) return;
    const tokens = summary.billable === true && summary.usage ? summary.usage.input + summary.usage.output : 0;
    const event = summary.ledgerBooked === true ? null : exchangeUsageEvent(summary);
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
            metadata: {
              request_id: record.requestId,
              embedding_id: record.id,
              deployment: record.deployment,
              status: record.status,
            },
          };
    this.track(this.book(event, billing, record.id, record.keyId, tokens));
  };

  /** Resolves once every booking started so far has finished (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.pending.size > 0 || this.queue.length > 0 || this.flushing) {
      if (this.queue.length > 0 || this.flushing) await this.flush();
      await Promise.all([...this.pending]);
    }
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
  private async book(
    event: UsageEvent | null,
    billing: ExchangeBilling,
    exchangeId: string,
    keyId: string | null,
    tokens: number,
  ): Promise<void> {
    if (billing.reservationId !== null && keyId !== null) {
      try {
        await this.limiter.settle(keyId, { reservationId: billing.reservationId, actualTokens: tokens });
      } catch (error) {
        this.logger.error({ err: error, keyId }, "cannot settle the rate-limit reservation");
      }
    }
    if (!event) return;
    this.queue.push({ event: { ...event, idempotencyKey: billing.ledgerKey }, billing, exchangeId });
    // A full batch starts a write, unless one is under way: its loop takes the rows queued meanwhile.
    if (this.queue.length >= MAX_BATCH) {
      if (!this.flushing) void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, BOOKING_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Writes the queued ledger rows (one batch at a time). */
  private async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, MAX_BATCH);
    this.flushing = this.writeBatch(batch).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
    if (this.queue.length > 0) await this.flush();
  }

  private async writeBatch(batch: readonly QueuedBooking[]): Promise<void> {
    let results;
    try {
      results = await this.tenancy.ledger.recordMany(batch.map((b) => b.event));
    } catch (error) {
      this.logger.error({ err: error, rows: batch.length }, "cannot write usage ledger rows");
      return;
    }
    // A request id reused by a client for different requests: each exchange is still booked, under `<request id>/<exchange id>`.
    const again = batch.flatMap(({ event, billing, exchangeId }, i) => {
      const key = rebookingKey(billing, exchangeId, results[i]!);
      return key === null ? [] : [{ ...event, idempotencyKey: key }];
    });
    if (again.length === 0) return;
    try {
      await this.tenancy.ledger.recordMany(again);
    } catch (error) {
      this.logger.error({ err: error, rows: again.length }, "cannot write usage ledger rows");
    }
  }
}
