/**
 * The usage-ledger row of a chat exchange, and the rule for an idempotency
 * key that is already taken: one implementation for the three places that
 * book an exchange — `SqliteStore.writeBatch` and `PgStore.writeBatch` (in
 * the record's own transaction) and the server's `UsageBooking` (recording
 * off, or a store that does not book).
 */
import type { ExchangeBilling, TokenUsage } from "../recording/types.js";
import type { RecordUsageResult, UsageEvent } from "./types.js";
import { MAX_EVENT_COST_USD, MAX_EVENT_TOKENS } from "./usage-event.js";

/** What booking needs of a chat exchange: its assembled record or its summary carry all of it. */
export interface BillableExchange {
  /** The exchange id (`responses.id`). */
  id: string;
  requestId: string;
  requestedModel: string;
  provider: string | null;
  deployment: string | null;
  status: string;
  /** Token counts (estimated ones flagged), or null. */
  usage: TokenUsage | null;
  /** Cost in USD, or null when unpriced. */
  costUsd?: number | null;
  tenantId?: string | null;
  keyId?: string | null;
  /** How the ledger books it; absent or null: not booked. */
  billing?: ExchangeBilling | null;
  /** True when the upstream produced an answer (complete or partial). */
  billable?: boolean;
}

/**
 * The ledger event of a chat exchange (`token_type: llm`, idempotency key
 * `billing.ledgerKey`, metadata `request_id`, `response_id`, `deployment`,
 * `status`), or null when it is not booked: no billing, or not billable (an
 * exchange refused before any answer costs nothing).
 */
export function exchangeUsageEvent(exchange: BillableExchange): UsageEvent | null {
  const billing = exchange.billing;
  if (!billing || exchange.billable !== true) return null;
  const usage = exchange.usage;
  return {
    tenantId: exchange.tenantId ?? undefined,
    keyId: exchange.keyId ?? null,
    model: exchange.requestedModel,
    provider: exchange.provider,
    tokenType: "llm",
    operation: billing.operation,
    inputTokens: tokenCount(usage?.input),
    outputTokens: tokenCount(usage?.output),
    costUsd: costUsd(exchange.costUsd),
    estimated: usage?.estimated ?? false,
    idempotencyKey: billing.ledgerKey,
    metadata: {
      request_id: exchange.requestId,
      response_id: exchange.id,
      deployment: exchange.deployment,
      status: exchange.status,
    },
  };
}

/**
 * The idempotency key to book an exchange under when its first write met an
 * existing row of another exchange: a request id reused by a client for
 * different requests is booked again under `<ledger key>/<exchange id>`.
 * Null when nothing more is to be written: the row was new, the row is this
 * exchange's own (`metadata.response_id` or `embedding_id`), or the key is
 * the client's `Idempotency-Key` (a retry, never booked twice).
 */
export function rebookingKey(billing: ExchangeBilling, exchangeId: string, first: RecordUsageResult): string | null {
  if (!first.duplicate || billing.fromIdempotencyKey) return null;
  const metadata = first.row.metadata;
  if (metadata?.response_id === exchangeId || metadata?.embedding_id === exchangeId) return null;
  return `${billing.ledgerKey}/${exchangeId}`;
}

/**
 * A token count the ledger accepts (a whole number from 0 to {@link MAX_EVENT_TOKENS}): an
 * upstream that reports a negative, fractional, non-finite or absurd count must not cost the
 * record its transaction (the ledger refuses such an event).
 */
function tokenCount(value: number | undefined): number {
  return typeof value === "number" && Number.isFinite(value)
    ? Math.min(MAX_EVENT_TOKENS, Math.max(0, Math.round(value)))
    : 0;
}

/** A cost the ledger accepts, in USD: null when unknown or not a finite amount ≥ 0, at most {@link MAX_EVENT_COST_USD}. */
function costUsd(value: number | null | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.min(MAX_EVENT_COST_USD, value) : null;
}
