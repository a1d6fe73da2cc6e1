/**
 * The one log line of each exchange, written by its route when the answer
 * has ended (the last byte sent, or the failure answered), before the record
 * is queued: lines come out in the order exchanges complete, whatever the
 * recorder does later. Its token counts are those the upstream reported
 * (reported-usage.ts); where it reported none, the record gets the proxy's
 * estimate off the request path (`llm-relay logs` and `/metrics` show it).
 */
import type { Logger } from "pino";
import type { EmbeddingExchange, PendingExchange } from "../recording/types.js";
import { reportedUsage } from "./reported-usage.js";

/** The message of a chat-like exchange's line (every inbound protocol: `protocol` says which). */
export const EXCHANGE_LINE = "chat.completion";
/** The message of an embeddings exchange's line. */
export const EMBEDDING_LINE = "embeddings";

/**
 * Logs `exchange` at info: `id` (the request id), `responseId` (the record's id, `responses.id`), `model`
 * (as requested), `protocol`, `deployment`, `status` (HTTP), `outcome`, `ms`, `ttftMs`, `overheadMs` (ms),
 * `tokens` (`{input, output, estimated, details?}` as the upstream reported them, or null: see
 * reported-usage.ts), `tenant`, and `error` when it failed.
 */
export function logExchangeLine(logger: Logger, exchange: PendingExchange): void {
  // Below info (`log_level: warn`), not even the token counts are read.
  if (!logger.isLevelEnabled("info")) return;
  logger.info(
    {
      id: exchange.requestId,
      responseId: exchange.id,
      model: exchange.requestedModel,
      protocol: exchange.protocol ?? "chat",
      deployment: exchange.deployment,
      status: exchange.httpStatus,
      outcome: exchange.status,
      ms: exchange.durationMs,
      ttftMs: exchange.ttftMs,
      overheadMs: exchange.overheadMs ?? null,
      tokens: reportedUsage(exchange.output, exchange.provider),
      ...(exchange.tenantId ? { tenant: exchange.tenantId } : {}),
      ...(exchange.error ? { error: exchange.error } : {}),
    },
    EXCHANGE_LINE,
  );
}

/**
 * Logs an embeddings exchange at info: `id` (the request id), `embeddingId` (the record's id in
 * `llm_relay_embeddings`), `model`, `deployment`, `status` (HTTP), `outcome`, `ms`, `inputs`, `tokens`
 * (input tokens: the upstream's count or the proxy's), `tenant`, and `error` when it failed.
 */
export function logEmbeddingLine(logger: Logger, record: EmbeddingExchange): void {
  if (!logger.isLevelEnabled("info")) return;
  logger.info(
    {
      id: record.requestId,
      embeddingId: record.id,
      model: record.requestedModel,
      deployment: record.deployment,
      status: record.httpStatus,
      outcome: record.status,
      ms: record.durationMs,
      inputs: record.inputCount,
      tokens: record.inputTokens,
      ...(record.tenantId ? { tenant: record.tenantId } : {}),
      ...(record.error ? { error: record.error } : {}),
    },
    EMBEDDING_LINE,
  );
}
