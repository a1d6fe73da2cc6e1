/**
 * The namespaces of the usage ledger's idempotency keys (`llm_relay_usage.idempotency_key`,
 * unique across all tenants), so that no caller can name a row it does not own:
 *
 * - `request:<tenant>:<request id>`: an exchange the proxy booked under its request
 *   id (`x-request-id`: the proxy's `req_…` or the client's own);
 * - `idempotency:<tenant>:<key>`: an exchange sent with `Idempotency-Key: <key>`;
 * - `client:<tenant>:<key>`: a `POST /internal/usage` event with `idempotencyKey: <key>`.
 *
 * `<tenant>` is the tenant id percent-encoded (`encodeURIComponent`, so it holds no
 * `:`): tenant `a:b` with key `x` and tenant `a` with key `b:x` never meet. The rest is
 * the key as given. The first two are the server's own: a client may not send a key
 * in {@link RESERVED_LEDGER_KEY_PREFIXES} (they would name the server's rows, or rows
 * booked before these namespaces existed, when a request id was the bare key); every
 * key it may send is then stored under `client:<its tenant>:`, so it reaches only its
 * own tenant's rows. The library's `trackTokenUsage` writes keys as given.
 */

/** Prefixes a client-supplied ledger key may not start with: the three namespaces, and `req_` (the proxy's request ids, bare keys before the namespaces). */
export const RESERVED_LEDGER_KEY_PREFIXES: readonly string[] = ["request:", "idempotency:", "client:", "req_"];

/** The ledger key of an exchange booked under its request id: `request:<tenant>:<request id>`. */
export function requestLedgerKey(tenantId: string, requestId: string): string {
  return `request:${tenantPart(tenantId)}:${requestId}`;
}

/** The ledger key of an exchange sent with `Idempotency-Key: <key>`: `idempotency:<tenant>:<key>`. */
export function idempotencyLedgerKey(tenantId: string, key: string): string {
  return `idempotency:${tenantPart(tenantId)}:${key}`;
}

/** The ledger key of a usage event a client sent with `idempotencyKey: <key>` for `tenantId`: `client:<tenant>:<key>`. */
export function clientLedgerKey(tenantId: string, key: string): string {
  return `client:${tenantPart(tenantId)}:${key}`;
}

/**
 * The reserved prefix a client-supplied key starts with (one of
 * {@link RESERVED_LEDGER_KEY_PREFIXES}), or null when the client may use it.
 * Case-sensitive, as the keys are.
 */
export function reservedPrefixOf(key: string): string | null {
  return RESERVED_LEDGER_KEY_PREFIXES.find((prefix) => key.startsWith(prefix)) ?? null;
}

function tenantPart(tenantId: string): string {
  return encodeURIComponent(tenantId);
}
