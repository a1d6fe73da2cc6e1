/**
 * The zod schemas of the internal endpoints' envelopes (`server/envelope.ts`):
 * one per answer type, used by the routes to check what they send and by
 * clients (and the tests) to read it. Field names are the library's
 * (camelCase, as `trackTokenUsage` returns them); times are ISO-8601 UTC.
 */
import { z } from "zod";

/** `error` of a failed envelope: OpenAI's type and code, the message, structured `details` (or null). */
export const envelopeErrorSchema = z.strictObject({
  type: z.string(),
  code: z.string().nullable(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).nullable(),
});

/** Any failed envelope: `success: false`, `data: null`, the error. */
export const errorEnvelopeSchema = z.strictObject({
  success: z.literal(false),
  message: z.string(),
  data: z.null(),
  metadata: z.record(z.string(), z.unknown()),
  error: envelopeErrorSchema,
});

/** The schema of a successful envelope carrying `data` and `metadata` of these shapes. */
export function successEnvelopeSchema<D extends z.ZodType, M extends z.ZodType>(data: D, metadata: M) {
  return z.strictObject({ success: z.literal(true), message: z.string(), data, metadata, error: z.null() });
}

/** One group of `GET /internal/usage` (a {@link UsageGroup}). */
export const usageGroupSchema = z.strictObject({
  group: z.string().nullable(),
  events: z.number().int().min(0),
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  tokens: z.number().int().min(0),
  costUsd: z.number(),
  unpriced: z.number().int().min(0),
  estimated: z.boolean(),
});

/** `GET /internal/usage`: the groups, and the query as applied (a key's caller sees its own tenant only). */
export const usageSummaryEnvelopeSchema = successEnvelopeSchema(
  z.array(usageGroupSchema),
  z.strictObject({
    tenant: z.string().nullable(),
    since: z.string().nullable(),
    until: z.string().nullable(),
    groupBy: z.enum(["model", "day", "key"]),
    groups: z.number().int().min(0),
  }),
);

/** A ledger row (a {@link UsageRow}). */
export const usageRowSchema = z.strictObject({
  id: z.string(),
  tenantId: z.string(),
  keyId: z.string().nullable(),
  model: z.string(),
  provider: z.string().nullable(),
  tokenType: z.enum(["llm", "embedding"]),
  operation: z.enum(["query", "batch", "internal"]),
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  tokens: z.number().int().min(0),
  costUsd: z.number().nullable(),
  estimated: z.boolean(),
  idempotencyKey: z.string(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.string(),
});

/**
 * `POST /internal/usage`: the row (the first one for a repeated idempotency key) and whether it was a duplicate.
 * The row's `idempotencyKey` is the key the client sent (or the row id when it sent none); `metadata.ledgerKey`
 * is the key as stored in `llm_relay_usage.idempotency_key` (`client:<tenant>:<key>`, see `tenancy/ledger-keys.ts`).
 */
export const usageRecordEnvelopeSchema = successEnvelopeSchema(
  z.strictObject({ row: usageRowSchema, duplicate: z.boolean() }),
  z.strictObject({ ledgerKey: z.string() }),
);

/** An API key as listed (an {@link ApiKey}: never the secret nor its hash). */
export const apiKeySchema = z.strictObject({
  id: z.string(),
  tenant: z.string(),
  prefix: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
  budgetUsd: z.number().nullable(),
  budgetPeriodMs: z.number().nullable(),
  rpm: z.number().nullable(),
  tpm: z.number().nullable(),
  models: z.array(z.string()).nullable(),
});

/** `GET /internal/keys`: every key (revoked ones included), oldest first. */
export const keysEnvelopeSchema = successEnvelopeSchema(
  z.array(apiKeySchema),
  z.strictObject({ tenant: z.string().nullable(), count: z.number().int().min(0), active: z.number().int().min(0) }),
);

/** The checks of `GET /internal/health`. */
export const healthSchema = z.strictObject({
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  store: z.strictObject({ engine: z.enum(["sqlite", "postgresql"]), writable: z.boolean() }),
  tenancy: z.strictObject({ engine: z.enum(["sqlite", "postgres"]), ok: z.boolean(), error: z.string().nullable() }),
  /** The recorder's own state (`Recorder.health`): `degraded` reasons, records waiting / kept for retry, the last store error. */
  recorder: z.strictObject({
    state: z.enum(["off", "ok", "backlogged", "retrying", "unresponsive"]),
    queued: z.number().int(),
    kept: z.number().int(),
    written: z.number().int(),
    failedWrites: z.number().int(),
    lastError: z.string().nullable(),
    lastErrorAt: z.string().nullable(),
    reasons: z.array(z.string()),
  }),
  redis: z.strictObject({ configured: z.boolean(), ok: z.boolean().nullable(), error: z.string().nullable() }),
  auth: z.strictObject({ mode: z.enum(["auto", "required", "off"]), keysRequired: z.boolean() }),
});

/** `GET /internal/health` when every check passes (a failing one answers 503 with {@link errorEnvelopeSchema}, the checks in `error.details`). */
export const healthEnvelopeSchema = successEnvelopeSchema(healthSchema, z.strictObject({}));

/** The data of {@link healthEnvelopeSchema}. */
export type HealthData = z.infer<typeof healthSchema>;
