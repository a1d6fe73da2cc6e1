/**
 * The attacks on the usage ledger through `POST /internal/usage` (issue 16,
 * failure 4), as one suite run on each tenancy engine
 * (`ledger-isolation.test.ts` on SQLite, `ledger-isolation-postgres.test.ts`
 * on PostgreSQL). Tenant `a` tries to reach tenant `b`'s rows and money:
 *
 * 1. reading `b`'s rows as "duplicates": the key the server derives from
 *    `b`'s `Idempotency-Key`, `b`'s request ids (the proxy's and its own),
 *    and keys of rows booked before the namespaces existed;
 * 2. booking zero-cost rows under the keys of its own future chats, so that
 *    they are taken as duplicates and never billed;
 * 3. booking cost on `b`'s key, so that `b` is refused for a budget it never used.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig, type LibraryConfigInput } from "../../src/config/load.js";
import { errorEnvelopeSchema, usageRecordEnvelopeSchema } from "../../src/server/envelope-schemas.js";
import { trackTokenUsage } from "../../src/tenancy/track-token-usage.js";
import type { CreatedApiKey } from "../../src/tenancy/types.js";
import { chat, chatBody, openAIError, send, type Answer } from "../helpers/exchanges.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { startTestProxy, tempDir, type TestProxy } from "../helpers/proxy.js";

/** A row of `llm_relay_usage`, as the engine reads it. */
export interface LedgerRow {
  id: string;
  tenant_id: string;
  key_id: string | null;
  idempotency_key: string;
  cost_usd: number | null;
}

/** One tenancy engine under test. */
export interface LedgerEngine {
  /** Called before each test (e.g. a fresh PostgreSQL schema). */
  setUp(): Promise<void>;
  /** Called after each test, once its proxy is closed. */
  tearDown(): Promise<void>;
  /** The config overrides that put the proxy's stores on this engine (none for SQLite). */
  overrides(): LibraryConfigInput;
  /** Every row of the proxy's ledger, oldest first. */
  ledgerRows(proxy: TestProxy): Promise<LedgerRow[]>;
}

const MASTER = "master-secret-for-ledger-isolation";
/** A priced model of the groq preset, served by the fake upstream. */
const PRICED = "groq/llama-3.1-8b-instant";

const bearer = (secret: CreatedApiKey | string) => ({
  authorization: `Bearer ${typeof secret === "string" ? secret : secret.plaintext}`,
});

/** `POST /internal/usage` with `body`, as `caller`. */
function postUsage(proxy: TestProxy, caller: CreatedApiKey | string, body: Record<string, unknown>): Promise<Answer> {
  return send(`${proxy.url}/internal/usage`, { body, headers: bearer(caller) });
}

/** Waits until the recorder wrote every exchange so far and the ledger booked it. */
async function settled(proxy: TestProxy): Promise<void> {
  await proxy.server.ctx.recorder.flush();
  await proxy.server.ctx.booking.drain();
}

/** The failed envelope's error of an answer, after checking its status. */
function refusal(
  answer: Answer,
  status: number,
): { code: string | null; type: string; message: string; details: Record<string, unknown> | null } {
  expect(answer.status, answer.text).toBe(status);
  return errorEnvelopeSchema.parse(answer.json).error;
}

/** Registers the suite against `engine`. */
export function ledgerIsolationSuite(engine: LedgerEngine): void {
  let fake: FakeUpstream;
  let cwd: string;
  let proxy: TestProxy | null = null;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    cwd = tempDir("llm-relay-ledger-isolation-");
    fs.writeFileSync(path.join(cwd, "llm-relay.yaml"), `presets:\n  groq:\n    base_url: ${fake.baseUrl}\n`);
  });
  afterAll(async () => {
    await fake?.close();
    if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
  });
  beforeEach(() => engine.setUp());
  afterEach(async () => {
    await proxy?.close();
    proxy = null;
    await engine.tearDown();
  });

  /** A proxy on the engine with a master key and the priced groq model. */
  async function start(extra: LibraryConfigInput = {}): Promise<TestProxy> {
    proxy = await startTestProxy(
      { masterKey: MASTER, models: loadConfig({ cwd, env: {} }).models, ...engine.overrides(), ...extra },
      { env: { GROQ_API_KEY: "gsk-test" } },
    );
    return proxy;
  }

  describe("tenant a attacks tenant b's ledger through POST /internal/usage", () => {
    it("cannot read b's rows: the keys the server derives for b (Idempotency-Key, request ids) and keys of older rows are refused or stay a's own", async () => {
      const p = await start();
      const a = await p.server.ctx.tenancy.keys.create({ tenant: "a" });
      const b = await p.server.ctx.tenancy.keys.create({ tenant: "b" });
      // b's real exchanges: one with an Idempotency-Key, one under the proxy's request id, one under b's own x-request-id.
      expect((await chat(p, chatBody("echo"), { ...bearer(b), "idempotency-key": "job-1" })).status).toBe(200);
      const proxyId = await chat(p, chatBody("echo"), bearer(b));
      expect(proxyId.status).toBe(200);
      const requestId = proxyId.headers.get("x-request-id")!;
      expect(requestId).toMatch(/^req_/);
      expect((await chat(p, chatBody("echo"), { ...bearer(b), "x-request-id": "b-trace-7" })).status).toBe(200);
      await settled(p);
      // Rows of b booked before the ledger keys had namespaces: the bare proxy request id, and a bare client key.
      for (const idempotencyKey of ["req_00000000000000000000000000legacy", "legacy-job"]) {
        await p.server.ctx.tenancy.ledger.record({
          tenantId: "b",
          keyId: b.key.id,
          model: "echo",
          costUsd: 0.5,
          idempotencyKey,
        });
      }
      const before = await engine.ledgerRows(p);
      const bRows = before.filter((row) => row.tenant_id === "b");
      expect(bRows).toHaveLength(5);

      const answers: Answer[] = [];
      // The server's own namespaces and the proxy's request ids: refused, whoever asks and for whichever tenant.
      const reserved = [
        "idempotency:b:job-1",
        requestId,
        `request:b:${requestId}`,
        "request:b:b-trace-7",
        "req_00000000000000000000000000legacy",
        "client:b:legacy-job",
      ];
      for (const idempotencyKey of reserved) {
        for (const [caller, tenantId] of [
          [a, undefined],
          [MASTER, "a"],
          [MASTER, "b"],
        ] as const) {
          const answer = await postUsage(p, caller, {
            model: "echo",
            idempotencyKey,
            ...(tenantId ? { tenantId } : {}),
          });
          answers.push(answer);
          const error = refusal(answer, 400);
          expect(error).toMatchObject({
            type: "invalid_request_error",
            code: "reserved_idempotency_key",
            details: { param: "idempotencyKey" },
          });
          expect(error.message).toContain(
            idempotencyKey.startsWith("req_")
              ? "'req_'"
              : `'${idempotencyKey.slice(0, idempotencyKey.indexOf(":") + 1)}'`,
          );
        }
      }
      // Keys b chose itself (its x-request-id, a key of an older row): a's own new rows, never b's.
      for (const idempotencyKey of ["b-trace-7", "legacy-job", "job-1"]) {
        const answer = await postUsage(p, a, { model: "echo", idempotencyKey });
        answers.push(answer);
        expect(answer.status, answer.text).toBe(201);
        const recorded = usageRecordEnvelopeSchema.parse(answer.json);
        expect(recorded.data.duplicate).toBe(false);
        expect(recorded.data.row).toMatchObject({ tenantId: "a", keyId: a.key.id, idempotencyKey });
        expect(recorded.metadata).toEqual({ ledgerKey: `client:a:${idempotencyKey}` });
        // Sent again, the duplicate is a's row.
        const again = await postUsage(p, a, { model: "echo", idempotencyKey });
        answers.push(again);
        expect(again.status).toBe(200);
        expect(usageRecordEnvelopeSchema.parse(again.json).data).toEqual({ duplicate: true, row: recorded.data.row });
      }

      // No answer carried a row of b, and b's rows are as they were.
      for (const answer of answers) {
        for (const row of bRows) expect(answer.text).not.toContain(row.id);
      }
      const after = await engine.ledgerRows(p);
      expect(after.filter((row) => row.tenant_id === "b")).toEqual(bRows);
      expect(
        after
          .filter((row) => row.tenant_id === "a")
          .map((row) => row.idempotency_key)
          .sort(),
      ).toEqual(["client:a:b-trace-7", "client:a:job-1", "client:a:legacy-job"]);
      // b's exchanges were booked in the server's namespaces.
      expect(bRows.map((row) => row.idempotency_key).sort()).toEqual(
        [
          "idempotency:b:job-1",
          `request:b:${requestId}`,
          "request:b:b-trace-7",
          "req_00000000000000000000000000legacy",
          "legacy-job",
        ].sort(),
      );
    });

    it("cannot pre-book free rows under its own chats' keys: the zero-cost rows are refused, each chat is billed and the budget bites", async () => {
      const p = await start();
      // The cost of one exchange, from a key without a budget.
      const probe = await p.server.ctx.tenancy.keys.create({ tenant: "probe" });
      expect(
        (await chat(p, { model: PRICED, messages: [{ role: "user", content: "price me" }] }, bearer(probe))).status,
      ).toBe(200);
      await settled(p);
      const cost = (await engine.ledgerRows(p))[0]!.cost_usd!;
      expect(cost).toBeGreaterThan(0);
      // Room for three and a half exchanges.
      const a = await p.server.ctx.tenancy.keys.create({
        tenant: "a",
        budgetUsd: cost * 3.5,
        budgetPeriodMs: 30 * 86_400_000,
      });

      // The trick: zero-cost rows under the ledger keys the server will derive from `Idempotency-Key: free-<i>`.
      for (let i = 1; i <= 15; i++) {
        const error = refusal(
          await postUsage(p, a, { model: PRICED, costUsd: 0, idempotencyKey: `idempotency:a:free-${i}` }),
          400,
        );
        expect(error.code).toBe("reserved_idempotency_key");
      }
      // The same keys without the namespace are a's own client rows, in their own namespace: they shield nothing.
      expect((await postUsage(p, a, { model: PRICED, costUsd: 0, idempotencyKey: "free-1" })).status).toBe(201);

      const statuses: number[] = [];
      for (let i = 1; i <= 15; i++) {
        const answer = await chat(
          p,
          { model: PRICED, messages: [{ role: "user", content: "price me" }] },
          { ...bearer(a), "idempotency-key": `free-${i}` },
        );
        statuses.push(answer.status);
        if (answer.status === 429)
          expect(openAIError(answer)).toMatchObject({ type: "insufficient_quota", code: "budget_exceeded" });
        // The next admission sees this exchange's booking.
        await settled(p);
      }
      expect(statuses).toEqual([...Array<number>(4).fill(200), ...Array<number>(11).fill(429)]);
      const billed = (await engine.ledgerRows(p)).filter(
        (row) => row.key_id === a.key.id && row.idempotency_key.startsWith("idempotency:"),
      );
      expect(billed.map((row) => row.idempotency_key).sort()).toEqual(
        [1, 2, 3, 4].map((i) => `idempotency:a:free-${i}`).sort(),
      );
      for (const row of billed) expect(row.cost_usd).toBeCloseTo(cost, 12);
      expect(await p.server.ctx.tenancy.ledger.spend({ keyId: a.key.id }, 0)).toBeCloseTo(cost * 4, 12);
    });

    it("cannot book on b's key: 403 key_forbidden, b's spend unchanged and b still served", async () => {
      const p = await start();
      const a = await p.server.ctx.tenancy.keys.create({ tenant: "a" });
      const b = await p.server.ctx.tenancy.keys.create({ tenant: "b", budgetUsd: 1 });

      const forbidden = refusal(await postUsage(p, a, { model: "echo", keyId: b.key.id, costUsd: 5 }), 403);
      expect(forbidden).toMatchObject({ type: "permission_error", code: "key_forbidden", details: { param: "keyId" } });
      // A key that does not exist gets the same answer (a's caller learns nothing of other tenants' keys).
      expect(
        refusal(await postUsage(p, a, { model: "echo", keyId: "key_00000000000000000000000000", costUsd: 5 }), 403)
          .code,
      ).toBe("key_forbidden");
      // Naming b's tenant is refused as before.
      expect(
        refusal(await postUsage(p, a, { model: "echo", tenantId: "b", keyId: b.key.id, costUsd: 5 }), 403).code,
      ).toBe("tenant_forbidden");
      // The master key books on a key only for that key's own tenant.
      for (const tenantId of ["a", undefined]) {
        const error = refusal(
          await postUsage(p, MASTER, { model: "echo", keyId: b.key.id, costUsd: 5, ...(tenantId ? { tenantId } : {}) }),
          400,
        );
        expect(error).toMatchObject({ code: "invalid_key_id", details: { param: "keyId" } });
        expect(error.message).toContain("tenant 'b'");
      }
      expect(
        refusal(
          await postUsage(p, MASTER, {
            model: "echo",
            tenantId: "b",
            keyId: "key_00000000000000000000000000",
            costUsd: 5,
          }),
          400,
        ).message,
      ).toContain("no such key");

      expect(await p.server.ctx.tenancy.ledger.spend({ keyId: b.key.id }, 0)).toBe(0);
      expect(await p.server.ctx.tenancy.ledger.spend({ tenant: "b" }, 0)).toBe(0);
      const served = await chat(p, chatBody("echo"), bearer(b));
      expect(served.status).toBe(200);
      expect(served.headers.get("x-llm-relay-budget-remaining-usd")).toBe("1");

      // What is allowed still works: a on its own key, the master key on b's key for tenant b.
      const own = await postUsage(p, a, { model: "echo", keyId: a.key.id, costUsd: 0.5 });
      expect(own.status).toBe(201);
      expect(usageRecordEnvelopeSchema.parse(own.json).data.row).toMatchObject({ tenantId: "a", keyId: a.key.id });
      const operator = await postUsage(p, MASTER, { model: "echo", tenantId: "b", keyId: b.key.id, costUsd: 0.25 });
      expect(operator.status).toBe(201);
      expect(await p.server.ctx.tenancy.ledger.spend({ keyId: b.key.id }, 0)).toBeCloseTo(0.25, 12);
    });
  });

  describe("tenant ids that hold the separator", () => {
    it("keep the ledger keys of tenant 'a:b' with key 'x' and tenant 'a' with key 'b:x' apart: both exchanges are booked, on the chat and the internal route", async () => {
      const p = await start();
      const ab = await p.server.ctx.tenancy.keys.create({ tenant: "a:b" });
      const a = await p.server.ctx.tenancy.keys.create({ tenant: "a" });
      expect((await chat(p, chatBody("echo"), { ...bearer(ab), "idempotency-key": "x" })).status).toBe(200);
      await settled(p);
      expect((await chat(p, chatBody("echo"), { ...bearer(a), "idempotency-key": "b:x" })).status).toBe(200);
      expect((await chat(p, chatBody("echo"), { ...bearer(ab), "x-request-id": "y" })).status).toBe(200);
      await settled(p);
      expect((await chat(p, chatBody("echo"), { ...bearer(a), "x-request-id": "b:y" })).status).toBe(200);
      await settled(p);
      expect((await postUsage(p, ab, { model: "echo", idempotencyKey: "z" })).status).toBe(201);
      const other = await postUsage(p, a, { model: "echo", idempotencyKey: "b:z" });
      expect(other.status, other.text).toBe(201);
      const rows = await engine.ledgerRows(p);
      // Three rows each: no exchange of one tenant was taken for a duplicate of the other's.
      expect(rows.filter((row) => row.tenant_id === "a:b")).toHaveLength(3);
      expect(rows.filter((row) => row.tenant_id === "a")).toHaveLength(3);
      const booked = rows.map((row) => [row.tenant_id, row.idempotency_key]);
      expect(booked.sort()).toEqual(
        [
          ["a:b", "idempotency:a%3Ab:x"],
          ["a", "idempotency:a:b:x"],
          ["a:b", "request:a%3Ab:y"],
          ["a", "request:a:b:y"],
          ["a:b", "client:a%3Ab:z"],
          ["a", "client:a:b:z"],
        ].sort(),
      );
    });
  });

  describe("POST /internal/usage without keys", () => {
    it("refuses a keyId (no key exists), and never shows another tenant's row found under a tenant's scoped key", async () => {
      const p = await start();
      const unknown = refusal(
        await send(`${p.url}/internal/usage`, { body: { model: "echo", keyId: "key_00000000000000000000000000" } }),
        400,
      );
      expect(unknown).toMatchObject({ code: "invalid_key_id", details: { param: "keyId" } });
      expect(
        (await send(`${p.url}/internal/usage`, { body: { model: "echo", keyId: null, tenantId: "a" } })).status,
      ).toBe(201);
      // The ledger's length limit holds for the key as stored (with its tenant): a client key that no longer fits is a 400, not a 500.
      const long = refusal(
        await send(`${p.url}/internal/usage`, {
          body: { model: "echo", tenantId: "a", idempotencyKey: "k".repeat(512) },
        }),
        400,
      );
      expect(long).toMatchObject({ code: "invalid_request", details: { param: "idempotencyKey" } });

      // A direct database writer (the library) put tenant b's row under the key tenant a's events are stored under.
      const planted = await trackTokenUsage(
        { model: "echo", tenantId: "b", costUsd: 3, idempotencyKey: "client:a:shared" },
        { store: p.server.ctx.tenancy },
      );
      expect(planted.success).toBe(true);
      const conflict = await send(`${p.url}/internal/usage`, {
        body: { model: "echo", tenantId: "a", idempotencyKey: "shared" },
      });
      expect(refusal(conflict, 409)).toMatchObject({
        code: "idempotency_key_conflict",
        details: { param: "idempotencyKey" },
      });
      expect(conflict.text).not.toContain(planted.success ? planted.data.id : "");
    });
  });
}
