/**
 * Database rows (snake_case columns) to the store's objects, for both
 * engines: SQLite gives times as text, booleans as 0/1 and JSON as text;
 * PostgreSQL (the `postgres` package) gives `Date`s, booleans and parsed
 * JSON. Each converter accepts either.
 */
import type { ApiKey, IdempotencyRecord, StoredResponse, UsageGroup, UsageRow } from "./types.js";

type Time = string | Date;
type Json<T> = string | T | null;

/** A `llm_relay_keys` row as read. */
export interface KeyRow {
  id: string;
  tenant_id: string;
  prefix: string;
  key_hash: string;
  created_at: Time;
  revoked_at: Time | null;
  budget_usd: number | null;
  budget_period_ms: number | string | null;
  rpm: number | null;
  tpm: number | null;
  models: Json<string[]>;
}

/** A `llm_relay_usage` row as read. */
export interface UsageDbRow {
  id: string;
  tenant_id: string;
  key_id: string | null;
  model: string;
  provider: string | null;
  token_type: UsageRow["tokenType"];
  operation: UsageRow["operation"];
  input_tokens: number;
  output_tokens: number;
  tokens: number;
  cost_usd: number | null;
  estimated: number | boolean;
  idempotency_key: string;
  metadata: Json<Record<string, unknown>>;
  created_at: Time;
}

/** A `llm_relay_idempotency` row as read. */
export interface IdempotencyDbRow {
  tenant_id: string;
  idempotency_key: string;
  fingerprint: string;
  state: IdempotencyRecord["state"];
  response_status: number | null;
  response_headers: Json<Record<string, string>>;
  response_body: string | null;
  response_events: Json<string[]>;
  created_at: Time;
  completed_at: Time | null;
  expires_at: Time;
}

/** A time column as ISO-8601 UTC with ms. */
export function timeText(value: Time): string {
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

function json<T>(value: Json<T>): T | null {
  if (value === null) return null;
  return typeof value === "string" ? (JSON.parse(value) as T) : value;
}

/** A key row as an {@link ApiKey} (the hash left out). */
export function apiKeyOf(row: KeyRow): ApiKey {
  return {
    id: row.id,
    tenant: row.tenant_id,
    prefix: row.prefix,
    createdAt: timeText(row.created_at),
    revokedAt: row.revoked_at === null ? null : timeText(row.revoked_at),
    budgetUsd: row.budget_usd,
    budgetPeriodMs: row.budget_period_ms === null ? null : Number(row.budget_period_ms),
    rpm: row.rpm,
    tpm: row.tpm,
    models: json(row.models),
  };
}

/** A ledger row as a {@link UsageRow}. */
export function usageRowFromDb(row: UsageDbRow): UsageRow {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    keyId: row.key_id,
    model: row.model,
    provider: row.provider,
    tokenType: row.token_type,
    operation: row.operation,
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    tokens: Number(row.tokens),
    costUsd: row.cost_usd,
    estimated: row.estimated === true || row.estimated === 1,
    idempotencyKey: row.idempotency_key,
    metadata: json(row.metadata),
    createdAt: timeText(row.created_at),
  };
}

/** An idempotency row as an {@link IdempotencyRecord}. */
export function idempotencyRecordOf(row: IdempotencyDbRow): IdempotencyRecord {
  let response: StoredResponse | null = null;
  if (row.state === "done" && row.response_status !== null) {
    const headers = json(row.response_headers) ?? {};
    const events = json(row.response_events);
    response =
      events !== null
        ? { kind: "sse", status: row.response_status, headers, events }
        : { kind: "body", status: row.response_status, headers, body: row.response_body ?? "" };
  }
  return {
    tenant: row.tenant_id,
    key: row.idempotency_key,
    fingerprint: row.fingerprint,
    state: row.state,
    response,
    createdAt: timeText(row.created_at),
    completedAt: row.completed_at === null ? null : timeText(row.completed_at),
    expiresAt: timeText(row.expires_at),
  };
}

/** Sorts summary groups by group, null first, by code unit (the same order on both engines). */
export function byGroup<T extends { group: string | null }>(groups: T[]): T[] {
  return groups.sort((a, b) =>
    a.group === b.group ? 0 : a.group === null ? -1 : b.group === null ? 1 : a.group < b.group ? -1 : 1,
  );
}

/** A summary row as both engines return it (after casts). */
export interface SummaryRow {
  grp: string | null;
  events: number;
  input_tokens: number;
  output_tokens: number;
  tokens: number;
  cost_usd: number;
  unpriced: number;
  estimated: number | boolean | null;
}

/** A summary row as a {@link UsageGroup}. */
export function groupOf(row: SummaryRow): UsageGroup {
  return {
    group: row.grp,
    events: Number(row.events),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    tokens: Number(row.tokens),
    costUsd: Number(row.cost_usd),
    unpriced: Number(row.unpriced),
    estimated: row.estimated === true || row.estimated === 1,
  };
}
