/**
 * The usage event's schema (zod) and its normalisation into a ledger row:
 * defaults filled in, tokens checked, the time as ISO-8601 UTC. Shared by
 * both stores, `trackTokenUsage` and (next) `POST /internal/usage`.
 */
import { z } from "zod";
import { readZodIssue } from "../protocol/zod-issue.js";
import { newUlid } from "../recording/ulid.js";
import { instantMs, isoUtc } from "./instants.js";
import { TenancyInputError } from "./store.js";
import { DEFAULT_TENANT, type UsageEvent, type UsageRow } from "./types.js";

/** Most tokens one usage event may carry (a trillion): sums of many events stay exact integers. */
export const MAX_EVENT_TOKENS = 1e12;
/** Most USD one usage event may cost (a million): a larger value is a mistake or an attack that would make every later sum `Infinity`. */
export const MAX_EVENT_COST_USD = 1e6;

const tokenCount = z.number().int().min(0).max(MAX_EVENT_TOKENS);
const instant = z.union([z.date(), z.string(), z.number()]);

/** The zod schema of a {@link UsageEvent} (camelCase fields; unknown fields are rejected). */
export const usageEventSchema = z.strictObject({
  tenantId: z.string().trim().min(1).optional(),
  keyId: z.string().min(1).nullable().optional(),
  model: z.string().trim().min(1),
  provider: z.string().min(1).nullable().optional(),
  tokenType: z.enum(["llm", "embedding"]).optional(),
  operation: z.enum(["query", "batch", "internal"]).optional(),
  inputTokens: tokenCount.optional(),
  outputTokens: tokenCount.optional(),
  tokens: tokenCount.optional(),
  costUsd: z.number().min(0).max(MAX_EVENT_COST_USD).nullable().optional(),
  estimated: z.boolean().optional(),
  idempotencyKey: z.string().min(1).max(512).optional(),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  createdAt: instant.optional(),
});

/**
 * The ledger row an event becomes: a new id, every default filled in
 * (tenant `default`, tokens = input + output, `llm`, `query`, now…).
 * @param now the time used when the event names none (ms, default now)
 * @throws TenancyInputError naming the first invalid field
 */
export function usageRowOf(event: UsageEvent, now: number = Date.now()): UsageRow {
  const parsed = usageEventSchema.safeParse(event);
  if (!parsed.success) {
    const issue = readZodIssue(parsed.error, event)!;
    throw new TenancyInputError(`invalid usage event: ${issue.param || "(event)"}: ${issue.message}`);
  }
  const e = parsed.data;
  const createdMs = e.createdAt === undefined ? now : instantMs(e.createdAt);
  const inputTokens = e.inputTokens ?? 0;
  const outputTokens = e.outputTokens ?? 0;
  const id = `usage_${newUlid(createdMs)}`;
  return {
    id,
    tenantId: e.tenantId ?? DEFAULT_TENANT,
    keyId: e.keyId ?? null,
    model: e.model,
    provider: e.provider ?? null,
    tokenType: e.tokenType ?? "llm",
    operation: e.operation ?? "query",
    inputTokens,
    outputTokens,
    tokens: e.tokens ?? inputTokens + outputTokens,
    costUsd: e.costUsd ?? null,
    estimated: e.estimated ?? false,
    idempotencyKey: e.idempotencyKey ?? id,
    metadata: e.metadata ?? null,
    createdAt: isoUtc(createdMs),
  };
}
