/**
 * The internal endpoints, for other services and operators; every answer
 * is an envelope (`server/envelope.ts`) checked against its zod schema
 * (`server/envelope-schemas.ts`):
 *
 * - `GET /internal/usage?tenant=&key=&since=&until=&group_by=model|day|key`: ledger totals;
 * - `POST /internal/usage`: records a usage event (`trackTokenUsage` semantics:
 *   201 for a new row; the same `idempotencyKey` again gives 200, `duplicate: true` and the first row),
 *   isolated by tenant: the client's `idempotencyKey` is stored as `client:<tenant>:<key>`
 *   (`tenancy/ledger-keys.ts`; shown back as sent, the stored form in `metadata.ledgerKey`), so it
 *   reaches only the event's tenant's rows; a key in the server's own namespaces (`request:`,
 *   `idempotency:`, `client:`, `req_`) is refused (400 `reserved_idempotency_key`); a row of another
 *   tenant under the key is never shown (409 `idempotency_key_conflict`). `keyId` defaults to the
 *   caller's key and must be a key of the event's tenant: 403 `key_forbidden` for a key's caller, 400
 *   `invalid_key_id` for the master key or an open proxy (unknown key, or another tenant's; without
 *   any key, every `keyId` is unknown);
 * - `GET /internal/keys?tenant=` (admin): every API key, never its secret;
 * - `GET /internal/health`: database, ledger, recorder and Redis checks (503 when one fails).
 *
 * Who may call: admin routes need `Authorization: Bearer $LLM_RELAY_MASTER_KEY`
 * (401 without it or with another key; 403 `admin_disabled` when the proxy has
 * no master key, so no secret can open them). The others, once keys are
 * required (see `admission.ts`), need a valid API key — which sees and writes
 * only its own tenant's usage (403 `tenant_forbidden` for another) — or the master key.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { errors } from "../../protocol/error-codes.js";
import { RelayError, invalidRequest } from "../../protocol/errors.js";
import { RedisRateLimiter } from "../../ratelimit/index.js";
import { usageEventSchema } from "../../tenancy/usage-event.js";
import { RESERVED_LEDGER_KEY_PREFIXES, clientLedgerKey, reservedPrefixOf } from "../../tenancy/ledger-keys.js";
import { TenancyInputError } from "../../tenancy/store.js";
import { DEFAULT_TENANT, type UsageEvent } from "../../tenancy/types.js";
import { VERSION } from "../../version.js";
import { bearerToken, type RequestTenant } from "../admission.js";
import type { ServerContext } from "../context.js";
import { sameSecret } from "../same-secret.js";
import { envelope, envelopeError } from "../envelope.js";
import {
  errorEnvelopeSchema,
  healthEnvelopeSchema,
  keysEnvelopeSchema,
  usageRecordEnvelopeSchema,
  usageSummaryEnvelopeSchema,
  type HealthData,
} from "../envelope-schemas.js";

/** Who calls an internal endpoint: the operator (master key), a key's tenant, or anyone (keys not required). */
type Caller = { kind: "master" } | { kind: "tenant"; tenant: RequestTenant } | { kind: "open" };

const usageQuerySchema = z.strictObject({
  tenant: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  since: z
    .string()
    .refine((v) => !Number.isNaN(Date.parse(v)), "must be an ISO-8601 date or time")
    .optional(),
  until: z
    .string()
    .refine((v) => !Number.isNaN(Date.parse(v)), "must be an ISO-8601 date or time")
    .optional(),
  group_by: z.enum(["model", "day", "key"]).default("model"),
});

/** Registers the routes. */
export function registerInternal(app: FastifyInstance, ctx: ServerContext): void {
  app.get("/internal/usage", (request, reply) =>
    answer(reply, async () => {
      const caller = await callerOf(ctx, request, false);
      const query = parse(usageQuerySchema, request.query, "query");
      const tenant = scopedTenant(caller, query.tenant);
      const groups = await ctx.tenancy.ledger.summary({
        groupBy: query.group_by,
        ...(tenant === null ? {} : { tenant }),
        ...(query.key ? { keyId: query.key } : {}),
        ...(query.since ? { since: query.since } : {}),
        ...(query.until ? { until: query.until } : {}),
      });
      const body = envelope({
        data: groups,
        message: `${groups.length} ${query.group_by} group${groups.length === 1 ? "" : "s"}`,
        metadata: {
          tenant,
          since: iso(query.since),
          until: iso(query.until),
          groupBy: query.group_by,
          groups: groups.length,
        },
      });
      return { status: 200, body: usageSummaryEnvelopeSchema.parse(body) };
    }),
  );

  app.post("/internal/usage", (request, reply) =>
    answer(reply, async () => {
      const caller = await callerOf(ctx, request, false);
      const event = parse<UsageEvent>(usageEventSchema, request.body, "body");
      const tenant = scopedTenant(caller, event.tenantId) ?? DEFAULT_TENANT;
      const sentKey = event.idempotencyKey;
      const scoped: UsageEvent = {
        ...event,
        tenantId: tenant,
        keyId: await bookableKeyId(ctx, caller, tenant, event.keyId),
        ...(sentKey === undefined ? {} : { idempotencyKey: clientIdempotencyKey(tenant, sentKey) }),
      };
      const { row, duplicate } = await ctx.tenancy.ledger.record(scoped);
      // Only a direct database writer (`trackTokenUsage`) could have put another tenant's row under this key: never show it.
      if (row.tenantId !== tenant) throw foreignRow(sentKey ?? row.idempotencyKey, tenant);
      const shown = { ...row, idempotencyKey: sentKey ?? row.idempotencyKey };
      const body = envelope({
        data: { row: shown, duplicate },
        message: duplicate
          ? `already recorded as ${row.id} (idempotency key ${shown.idempotencyKey})`
          : `recorded as ${row.id}`,
        metadata: { ledgerKey: row.idempotencyKey },
      });
      return { status: duplicate ? 200 : 201, body: usageRecordEnvelopeSchema.parse(body) };
    }),
  );

  app.get("/internal/keys", (request, reply) =>
    answer(reply, async () => {
      await callerOf(ctx, request, true);
      const query = parse(z.strictObject({ tenant: z.string().min(1).optional() }), request.query, "query");
      const keys = await ctx.tenancy.keys.list(query.tenant ? { tenant: query.tenant } : {});
      const active = keys.filter((k) => k.revokedAt === null).length;
      const body = envelope({
        data: keys,
        message: `${keys.length} key${keys.length === 1 ? "" : "s"} (${active} active)`,
        metadata: { tenant: query.tenant ?? null, count: keys.length, active },
      });
      return { status: 200, body: keysEnvelopeSchema.parse(body) };
    }),
  );

  app.get("/internal/health", (request, reply) =>
    answer(reply, async () => {
      await callerOf(ctx, request, false);
      const data = await healthOf(ctx);
      if (data.status === "ok")
        return { status: 200, body: healthEnvelopeSchema.parse(envelope({ data, message: "ok", metadata: {} })) };
      const failed = errors.degraded("degraded: a check failed (see error.details)");
      return { status: 503, body: errorEnvelopeSchema.parse(envelopeError(failed, {}, data).body) };
    }),
  );
}

/**
 * Runs a route body and sends its envelope; anything thrown becomes a failed envelope with its status (and headers).
 * A store's `TenancyInputError` (e.g. a client's idempotency key too long once scoped to its tenant) is a 400 `invalid_request`.
 */
async function answer(reply: FastifyReply, run: () => Promise<{ status: number; body: unknown }>): Promise<void> {
  try {
    const { status, body } = await run();
    await reply.code(status).send(body);
  } catch (thrown) {
    const error =
      thrown instanceof TenancyInputError ? invalidRequest(thrown.message, null, "invalid_request") : thrown;
    const failed = envelopeError(error, {}, error instanceof InputError ? error.details : undefined);
    if (error instanceof RelayError) reply.headers(error.headers);
    if (failed.status >= 500) reply.log.error({ err: error }, "internal endpoint failed");
    await reply.code(failed.status).send(errorEnvelopeSchema.parse(failed.body));
  }
}

/**
 * Who calls: the master key, else (when keys are required) an API key, else anyone.
 * @param admin true for admin routes: only the master key passes
 * @throws RelayError 401 (no or wrong key), 403 `admin_disabled` (admin route, no master key configured)
 */
async function callerOf(ctx: ServerContext, request: FastifyRequest, admin: boolean): Promise<Caller> {
  const master = ctx.config.masterKey;
  const token = bearerToken(request.headers.authorization);
  if (master && token !== null && sameSecret(token, master)) return { kind: "master" };
  if (admin) {
    if (!master) {
      throw errors.adminDisabled("Admin endpoints are disabled: start the proxy with LLM_RELAY_MASTER_KEY set.");
    }
    throw errors.invalidApiKey(
      token === null
        ? "This admin endpoint needs Authorization: Bearer <LLM_RELAY_MASTER_KEY>."
        : "The key given is not the master key (LLM_RELAY_MASTER_KEY).",
    );
  }
  if (!(await ctx.admission.keysRequired())) return { kind: "open" };
  const tenant = await ctx.admission.authenticate(bearerToken(request.headers.authorization));
  request.tenant = tenant;
  return { kind: "tenant", tenant };
}

/** The tenant a request may see or write: its key's own (403 for another), else the one asked for (null: all). */
function scopedTenant(caller: Caller, asked: string | undefined): string | null {
  if (caller.kind !== "tenant") return asked ?? null;
  const own = caller.tenant.tenantId;
  if (asked !== undefined && asked !== own) {
    throw errors.tenantForbidden(`This API key belongs to tenant '${own}' and cannot use tenant '${asked}'.`, {
      param: "tenant",
    });
  }
  return own;
}

/**
 * The key a usage event is booked on: for a key's caller, its own key when the
 * event names none; otherwise the named key, which must belong to `tenant`;
 * `keyId: null` books on the tenant without a key.
 * @param tenant the tenant the event is booked for (the caller's, for a key's caller)
 * @throws RelayError 403 `key_forbidden` (a key's caller naming a key that is not
 *   its tenant's, or no key at all); 400 `invalid_key_id` (the master key, or
 *   anyone when keys are not required, naming an unknown key or one of another
 *   tenant than the event's)
 */
async function bookableKeyId(
  ctx: ServerContext,
  caller: Caller,
  tenant: string,
  keyId: string | null | undefined,
): Promise<string | null> {
  if (keyId === undefined) return caller.kind === "tenant" ? caller.tenant.keyId : null;
  if (keyId === null) return null;
  const key = await ctx.tenancy.keys.get(keyId);
  if (key !== null && key.tenant === tenant) return key.id;
  if (caller.kind === "tenant") {
    // The same answer whether the key exists or not: another tenant's key ids are not this caller's business.
    throw errors.keyForbidden(
      `The key '${keyId}' is not a key of tenant '${tenant}': a key books usage only on its own tenant's keys.`,
      { param: "keyId" },
    );
  }
  const why =
    key === null
      ? "no such key exists"
      : `it belongs to tenant '${key.tenant}', not to the event's tenant '${tenant}' (set tenantId)`;
  throw errors.invalidKeyId(`Cannot book usage on the key '${keyId}': ${why}.`, { param: "keyId" });
}

/**
 * The ledger key of a client's `idempotencyKey`, scoped to the event's tenant
 * (`client:<tenant>:<key>`, `tenancy/ledger-keys.ts`), so it reaches no other tenant's row.
 * @throws RelayError 400 `reserved_idempotency_key` for a key in a namespace of the server's own keys,
 *   400 `invalid_request` for a key too long once scoped (the ledger's limit is on the stored key)
 */
function clientIdempotencyKey(tenant: string, key: string): string {
  const reserved = reservedPrefixOf(key);
  if (reserved !== null) {
    throw errors.reservedIdempotencyKey(
      `The idempotency key '${key}' starts with '${reserved}', reserved for the ledger keys the proxy derives itself (${RESERVED_LEDGER_KEY_PREFIXES.join(", ")}): choose another key.`,
      { param: "idempotencyKey" },
    );
  }
  const scoped = clientLedgerKey(tenant, key);
  if (!usageEventSchema.shape.idempotencyKey.safeParse(scoped).success) {
    throw invalidRequest(
      `The idempotency key is too long: stored with its tenant as '${scoped.slice(0, 40)}…' (${scoped.length} characters) it exceeds the ledger's limit; use a shorter key.`,
      "idempotencyKey",
      "invalid_request",
    );
  }
  return scoped;
}

/** 409 for a ledger row found under a caller's key that belongs to another tenant (its content is not shown). */
function foreignRow(key: string, tenant: string): RelayError {
  return errors.idempotencyKeyConflict(
    `The idempotency key '${key}' is already used in the ledger by a row that is not tenant '${tenant}'s: choose another key.`,
    { param: "idempotencyKey" },
  );
}

/** A 400 whose `details` lists the validation issues. */
class InputError extends RelayError {
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super({
      status: 400,
      message,
      type: "invalid_request_error",
      code: "invalid_request",
      errorClass: "invalid_request",
    });
  }
}

/** Parses `value` with `schema`. @throws InputError naming the first bad field, every issue in `details` */
function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const first = issues[0]!;
  throw new InputError(`Invalid ${where}: ${first.path || "(root)"}: ${first.message}`, { issues });
}

function iso(value: string | undefined): string | null {
  return value === undefined ? null : new Date(value).toISOString();
}

/** The checks: the record store accepts writes, the tenancy store answers, Redis answers (when configured). */
async function healthOf(ctx: ServerContext): Promise<HealthData> {
  // The recorder's own state: no statement or lock on the records' database (see `routes/health.ts`).
  const recorder = ctx.recorder.health();
  const writable = recorder.kept === 0;
  let tenancyError: string | null = null;
  let keysRequired = true;
  try {
    await ctx.tenancy.keys.anyKeys();
    keysRequired = await ctx.admission.keysRequired();
  } catch (error) {
    tenancyError = error instanceof Error ? error.message : String(error);
  }
  const redis: HealthData["redis"] = { configured: ctx.limiter instanceof RedisRateLimiter, ok: null, error: null };
  if (ctx.limiter instanceof RedisRateLimiter) {
    try {
      await ctx.limiter.ping();
      redis.ok = true;
    } catch (error) {
      redis.ok = false;
      redis.error = error instanceof Error ? error.message : String(error);
    }
  }
  const ok = recorder.status === "ok" && tenancyError === null && redis.ok !== false;
  return {
    status: ok ? "ok" : "degraded",
    version: VERSION,
    store: { engine: ctx.config.databaseUrl ? "postgresql" : "sqlite", writable },
    tenancy: { engine: ctx.tenancy.kind, ok: tenancyError === null, error: tenancyError },
    recorder: {
      state: recorder.state,
      queued: recorder.queued,
      kept: recorder.kept,
      written: recorder.written,
      failedWrites: recorder.failedWrites,
      lastError: recorder.lastError,
      lastErrorAt: recorder.lastErrorAt,
      reasons: recorder.reasons,
    },
    redis,
    auth: { mode: ctx.config.auth ?? "auto", keysRequired },
  };
}
