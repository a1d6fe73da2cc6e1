/**
 * The internal endpoints on a real proxy (SQLite): every answer parses with
 * its envelope schema; `POST /internal/usage` is idempotent (second call
 * 200 `duplicate: true` with the first row); `GET /internal/usage` groups
 * the ledger and, once keys exist, shows a key only its own tenant (403
 * for another, 401 without a key, everything for the master key);
 * `GET /internal/keys` needs the master key (401 without or with another
 * key, 403 `admin_disabled` when none is configured) and never shows a
 * secret; `GET /internal/health` reports the stores.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  errorEnvelopeSchema,
  healthEnvelopeSchema,
  keysEnvelopeSchema,
  usageRecordEnvelopeSchema,
  usageSummaryEnvelopeSchema,
} from "../../src/server/envelope-schemas.js";
import { chat, chatBody, send } from "../helpers/exchanges.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

const MASTER = "master-secret-for-tests";
let proxy: TestProxy | null = null;
afterEach(async () => {
  await proxy?.close();
  proxy = null;
});

const auth = (secret: string) => ({ authorization: `Bearer ${secret}` });
const internal = (p: TestProxy, route: string, init: { body?: unknown; headers?: Record<string, string> } = {}) =>
  send(`${p.url}/internal/${route}`, init);

describe("internal endpoints without keys", () => {
  it("records usage idempotently and sums it, in envelopes", async () => {
    proxy = await startTestProxy();
    const event = {
      model: "gpt-4o-mini",
      tenantId: "acme",
      inputTokens: 120,
      outputTokens: 30,
      costUsd: 0.000036,
      idempotencyKey: "job-42",
      operation: "batch",
    };
    const first = await internal(proxy, "usage", { body: event });
    expect(first.status).toBe(201);
    const created = usageRecordEnvelopeSchema.parse(first.json);
    expect(created.data.duplicate).toBe(false);
    expect(created.data.row).toMatchObject({
      tenantId: "acme",
      model: "gpt-4o-mini",
      tokens: 150,
      operation: "batch",
      tokenType: "llm",
      idempotencyKey: "job-42",
    });
    // Stored scoped to the event's tenant; shown back as sent.
    expect(created.metadata).toEqual({ ledgerKey: "client:acme:job-42" });

    const again = await internal(proxy, "usage", { body: { ...event, inputTokens: 999 } });
    expect(again.status).toBe(200);
    const duplicate = usageRecordEnvelopeSchema.parse(again.json);
    expect(duplicate.data).toEqual({ duplicate: true, row: created.data.row });

    const invalid = await internal(proxy, "usage", { body: { model: "x", inputTokens: -1 } });
    expect(invalid.status).toBe(400);
    const error = errorEnvelopeSchema.parse(invalid.json);
    expect(error.error).toMatchObject({ type: "invalid_request_error", code: "invalid_request" });
    expect(error.error.details).toEqual({ issues: [expect.objectContaining({ path: "inputTokens" })] });

    expect((await chat(proxy, chatBody("echo"))).status).toBe(200);
    await proxy.server.ctx.recorder.flush();
    await proxy.server.ctx.booking.drain();
    const summary = usageSummaryEnvelopeSchema.parse((await internal(proxy, "usage?group_by=model")).json);
    expect(summary.data.map((g) => [g.group, g.events])).toEqual([
      ["echo", 1],
      ["gpt-4o-mini", 1],
    ]);
    expect(summary.metadata).toMatchObject({ tenant: null, groupBy: "model", groups: 2 });
    const acme = usageSummaryEnvelopeSchema.parse(
      (await internal(proxy, "usage?tenant=acme&group_by=day&since=2000-01-01")).json,
    );
    expect(acme.data).toEqual([
      expect.objectContaining({
        events: 1,
        inputTokens: 120,
        outputTokens: 30,
        tokens: 150,
        costUsd: 0.000036,
        unpriced: 0,
      }),
    ]);
    expect(acme.metadata.since).toBe("2000-01-01T00:00:00.000Z");

    const badQuery = await internal(proxy, "usage?group_by=week");
    expect(badQuery.status).toBe(400);
    expect(errorEnvelopeSchema.parse(badQuery.json).error.details).toEqual({
      issues: [expect.objectContaining({ path: "group_by" })],
    });
  });

  it("answers 403 admin_disabled on the admin route when no master key is configured, and reports health", async () => {
    proxy = await startTestProxy();
    const keys = await internal(proxy, "keys", { headers: auth("anything") });
    expect(keys.status).toBe(403);
    expect(errorEnvelopeSchema.parse(keys.json).error).toMatchObject({
      type: "permission_error",
      code: "admin_disabled",
    });

    const health = await internal(proxy, "health");
    expect(health.status).toBe(200);
    expect(healthEnvelopeSchema.parse(health.json).data).toMatchObject({
      status: "ok",
      store: { engine: "sqlite", writable: true },
      tenancy: { engine: "sqlite", ok: true },
      redis: { configured: false, ok: null },
      auth: { mode: "auto", keysRequired: false },
    });
  });
});

describe("internal endpoints with keys and a master key", () => {
  it("scopes usage to the key's tenant and lists keys for the master key only", async () => {
    proxy = await startTestProxy({ masterKey: MASTER });
    const acme = await proxy.server.ctx.tenancy.keys.create({ tenant: "acme" });
    const globex = await proxy.server.ctx.tenancy.keys.create({ tenant: "globex", rpm: 5 });
    expect((await chat(proxy, chatBody("echo"), auth(acme.plaintext))).status).toBe(200);
    expect((await chat(proxy, chatBody("echo"), auth(globex.plaintext))).status).toBe(200);
    await proxy.server.ctx.recorder.flush();
    await proxy.server.ctx.booking.drain();

    expect((await internal(proxy, "usage")).status).toBe(401);
    expect(errorEnvelopeSchema.parse((await internal(proxy, "usage")).json).error.code).toBe("invalid_api_key");
    const own = usageSummaryEnvelopeSchema.parse(
      (await internal(proxy, "usage?group_by=key", { headers: auth(acme.plaintext) })).json,
    );
    expect(own.metadata.tenant).toBe("acme");
    expect(own.data.map((g) => g.group)).toEqual([acme.key.id]);
    const foreign = await internal(proxy, "usage?tenant=globex", { headers: auth(acme.plaintext) });
    expect(foreign.status).toBe(403);
    expect(errorEnvelopeSchema.parse(foreign.json).error).toMatchObject({
      code: "tenant_forbidden",
      details: { param: "tenant" },
    });
    const all = usageSummaryEnvelopeSchema.parse(
      (await internal(proxy, "usage?group_by=key", { headers: auth(MASTER) })).json,
    );
    expect(all.data.map((g) => g.group).sort()).toEqual([acme.key.id, globex.key.id].sort());

    // A key writes usage for its own tenant and key.
    const posted = usageRecordEnvelopeSchema.parse(
      (await internal(proxy, "usage", { body: { model: "m", inputTokens: 3 }, headers: auth(acme.plaintext) })).json,
    );
    expect(posted.data.row).toMatchObject({ tenantId: "acme", keyId: acme.key.id });

    for (const headers of [{}, auth(acme.plaintext), auth("not-the-master")]) {
      const refused = await internal(proxy, "keys", { headers });
      expect(refused.status).toBe(401);
      expect(errorEnvelopeSchema.parse(refused.json).error.code).toBe("invalid_api_key");
    }
    const listed = await internal(proxy, "keys", { headers: auth(MASTER) });
    expect(listed.status).toBe(200);
    const keys = keysEnvelopeSchema.parse(listed.json);
    expect(keys.data.map((k) => [k.tenant, k.rpm])).toEqual([
      ["acme", null],
      ["globex", 5],
    ]);
    expect(keys.metadata).toEqual({ tenant: null, count: 2, active: 2 });
    expect(listed.text).not.toContain(acme.plaintext);
    expect(listed.text).not.toContain(globex.plaintext);

    expect((await internal(proxy, "health")).status).toBe(401);
    expect(
      healthEnvelopeSchema.parse((await internal(proxy, "health", { headers: auth(acme.plaintext) })).json).data.auth,
    ).toEqual({ mode: "auto", keysRequired: true });
  });
});
