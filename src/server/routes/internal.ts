/**
 * The internal endpoints, for other services and operators; every answer
 * is an envelope (`server/envelope.ts`) checked against its zod schema
 * (`server/envelope-schemas.ts`):
 *
 * - `GET /internal/usage?tenant=&key=&since=&until=&group_by=model|day|key`: ledger totals;
 * - `POST /internal/usage`: records a usage event (`trackTokenUsage` semantics:
 *   201 for a new row; the same `idempotencyKey` again gives 200, `duplicate: true` and the first row);
 * - `GET /internal/keys?tenant=` (admin): every API key, never its secret;
 * - `GET /internal/health`: database, ledger, recorder and Redis checks (503 when one fails).
 *
 * Who may call: admin routes need `Authorization: Bearer $LLM_RELAY_MASTER_KEY`
 * (401 without it or with another key; 403 `admin_disabled` when the proxy has
 * no master key, so no secret can open them). The others, once keys are
 * required (see `admission.ts`), need a valid API key — which sees and writes
 * only its own tenant's usage (403 `tenant_forbidden` for another) — or the master key.
 */
import { timingSafeEqual, createHash } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { RelayError } from "../../protocol/errors.js";
import { RedisRateLimiter } from "../../ratelimit/index.js";
import { usageEventSchema } from "../../tenancy/usage-event.js";
import type { UsageEvent } from "../../tenancy/types.js";
import { VERSION } from "../../version.js";
import { bearerToken, type RequestTenant } from "../admission.js";
import type { ServerContext } from "../context.js";
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
  since: z.string().refine((v) => !Number.isNaN(Date.parse(v)), "must be an ISO-8601 date or time").optional(),
  until: z.string().refine((v) => !Number.isNaN(Date.parse(v)), "must be an ISO-8601 date or time").optional(),
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
        metadata: { tenant, since: iso(query.since), until: iso(query.until), groupBy: query.group_by, groups: groups.length },
      });
      return { status: 200, body: usageSummaryEnvelopeSchema.parse(body) };
    }),
  );

  app.post("/internal/usage", (request, reply) =>
    answer(reply, async () => {
      const caller = await callerOf(ctx, request, false);
      const event = parse(usageEventSchema, request.body, "body") as UsageEvent;
      const tenant = scopedTenant(caller, event.tenantId);
      const scoped: UsageEvent = {
        ...event,
        ...(tenant === null ? {} : { tenantId: tenant }),
        ...(caller.kind === "tenant" && event.keyId === undefined ? { keyId: caller.tenant.keyId } : {}),
      };
      const { row, duplicate } = await ctx.tenancy.ledger.record(scoped);
      const body = envelope({
        data: { row, duplicate },
        message: duplicate ? `already recorded as ${row.id} (idempotency key ${row.idempotencyKey})` : `recorded as ${row.id}`,
        metadata: {},
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
      const body = envelope({ data: keys, message: `${keys.length} key${keys.length === 1 ? "" : "s"} (${active} active)`, metadata: { tenant: query.tenant ?? null, count: keys.length, active } });
      return { status: 200, body: keysEnvelopeSchema.parse(body) };
    }),
  );

  app.get("/internal/health", (request, reply) =>
    answer(reply, async () => {
      await callerOf(ctx, request, false);
      const data = await healthOf(ctx);
      if (data.status === "ok") return { status: 200, body: healthEnvelopeSchema.parse(envelope({ data, message: "ok", metadata: {} })) };
      const failed = new RelayError({ status: 503, message: "degraded: a check failed (see error.details)", type: "server_error", code: "degraded", errorClass: "internal" });
      return { status: 503, body: errorEnvelopeSchema.parse(envelopeError(failed, {}, data).body) };
    }),
  );
}

/** Runs a route body and sends its envelope; anything thrown becomes a failed envelope with its status (and headers). */
async function answer(reply: FastifyReply, run: () => Promise<{ status: number; body: unknown }>): Promise<void> {
  try {
    const { status, body } = await run();
    await reply.code(status).send(body);
  } catch (error) {
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
      throw new RelayError({ status: 403, message: "Admin endpoints are disabled: start the proxy with LLM_RELAY_MASTER_KEY set.", type: "permission_error", code: "admin_disabled", errorClass: "invalid_request" });
    }
    throw new RelayError({
      status: 401,
      message: token === null ? "This admin endpoint needs Authorization: Bearer <LLM_RELAY_MASTER_KEY>." : "The key given is not the master key (LLM_RELAY_MASTER_KEY).",
      type: "invalid_request_error",
      code: "invalid_api_key",
      errorClass: "invalid_request",
    });
  }
  if (!(await ctx.admission.keysRequired())) return { kind: "open" };
  const tenant = await ctx.admission.authenticate(request.headers.authorization);
  request.tenant = tenant;
  return { kind: "tenant", tenant };
}

/** The tenant a request may see or write: its key's own (403 for another), else the one asked for (null: all). */
function scopedTenant(caller: Caller, asked: string | undefined): string | null {
  if (caller.kind !== "tenant") return asked ?? null;
  const own = caller.tenant.tenantId;
  if (asked !== undefined && asked !== own) {
    throw new RelayError({ status: 403, message: `This API key belongs to tenant '${own}' and cannot use tenant '${asked}'.`, type: "permission_error", param: "tenant", code: "tenant_forbidden", errorClass: "invalid_request" });
  }
  return own;
}

/** Compares two secrets in constant time (their SHA-256, so lengths do not leak). */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** A 400 whose `details` lists the validation issues. */
class InputError extends RelayError {
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super({ status: 400, message, type: "invalid_request_error", code: "invalid_request", errorClass: "invalid_request" });
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
