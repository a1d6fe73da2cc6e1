/**
 * `Idempotency-Key` records, the same on SQLite and PostgreSQL: the first
 * begin starts, a retry while it runs is `in_progress`, a retry after
 * `complete` gets the stored answer (a body, or the SSE events to replay),
 * another body under the same key is a `mismatch`; keys are per tenant;
 * records expire after their window (24 h by default) and a dead request's
 * lock runs out; of 20 concurrent begins through two instances exactly one
 * starts.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_IDEMPOTENCY_TTL_MS, requestFingerprint } from "../../src/tenancy/idempotency.js";
import type { TenancyStore } from "../../src/tenancy/store.js";
import type { IdempotencyTarget, StoredResponse } from "../../src/tenancy/types.js";
import { createBackend, ENGINES, type Backend } from "./backends.js";

const BODY = JSON.stringify({ model: "echo", messages: [{ role: "user", content: "hi" }] });
const target: IdempotencyTarget = {
  tenant: "acme",
  key: "retry-1",
  fingerprint: requestFingerprint("POST", "/v1/chat/completions", BODY),
};
const T0 = Date.parse("2026-11-21T10:00:00.000Z");
const HOUR = 3_600_000;

const jsonAnswer: StoredResponse = {
  kind: "body",
  status: 200,
  headers: { "content-type": "application/json; charset=utf-8", "x-request-id": "req_1" },
  body: '{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}',
};

describe("requestFingerprint", () => {
  it("depends on the method, the path and every byte of the body", () => {
    const base = requestFingerprint("POST", "/v1/chat/completions", BODY);
    expect(base).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(requestFingerprint("post", "/v1/chat/completions", Buffer.from(BODY))).toBe(base);
    expect(requestFingerprint("POST", "/v1/embeddings", BODY)).not.toBe(base);
    expect(requestFingerprint("PUT", "/v1/chat/completions", BODY)).not.toBe(base);
    expect(requestFingerprint("POST", "/v1/chat/completions", BODY.replace("hi", "ho"))).not.toBe(base);
  });
});

describe.each(ENGINES)("idempotency records on %s", (engine) => {
  let backend: Backend;
  let store: TenancyStore;

  beforeEach(async () => {
    backend = await createBackend(engine);
    store = await backend.open();
  });
  afterEach(async () => {
    await backend.cleanup();
  });

  it("starts, reports in_progress to a retry, then replays the stored body until it expires after 24 h", async () => {
    expect(await store.idempotency.begin(target, { now: T0 })).toEqual({ outcome: "started" });
    const running = await store.idempotency.begin(target, { now: T0 + 1000 });
    expect(running).toEqual({
      outcome: "in_progress",
      record: {
        ...target,
        state: "in_progress",
        response: null,
        createdAt: "2026-11-21T10:00:00.000Z",
        completedAt: null,
        expiresAt: "2026-11-22T10:00:00.000Z",
      },
    });
    expect(await store.idempotency.complete(target, jsonAnswer, { now: T0 + 2000 })).toBe(true);
    const replay = await store.idempotency.begin(target, { now: T0 + 23 * HOUR });
    expect(replay).toEqual({
      outcome: "done",
      record: {
        ...target,
        state: "done",
        response: jsonAnswer,
        createdAt: "2026-11-21T10:00:00.000Z",
        completedAt: "2026-11-21T10:00:02.000Z",
        expiresAt: "2026-11-22T10:00:00.000Z",
      },
    });
    // The window is over: the key is free for a new request.
    expect(await store.idempotency.begin(target, { now: T0 + DEFAULT_IDEMPOTENCY_TTL_MS })).toEqual({
      outcome: "started",
    });
  });

  it("stores a streamed answer's events for an SSE replay", async () => {
    const events = [
      '{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"h"}}]}',
      '{"id":"c1","object":"chat.completion.chunk","choices":[]}',
      "[DONE]",
    ];
    const sse: StoredResponse = { kind: "sse", status: 200, headers: { "content-type": "text/event-stream" }, events };
    expect((await store.idempotency.begin(target)).outcome).toBe("started");
    expect(await store.idempotency.complete(target, sse)).toBe(true);
    const other = await backend.open();
    const replay = await other.idempotency.begin(target);
    expect(replay.outcome).toBe("done");
    expect(replay.outcome === "done" && replay.record.response).toEqual(sse);
  });

  it("answers mismatch when the same key comes with another body, running or done", async () => {
    const otherBody = {
      ...target,
      fingerprint: requestFingerprint("POST", "/v1/chat/completions", BODY.replace("hi", "bye")),
    };
    await store.idempotency.begin(target);
    const whileRunning = await store.idempotency.begin(otherBody);
    expect(whileRunning.outcome).toBe("mismatch");
    expect(whileRunning.outcome === "mismatch" && whileRunning.record.fingerprint).toBe(target.fingerprint);
    // Completing with the other fingerprint does not touch the first request's record.
    expect(await store.idempotency.complete(otherBody, jsonAnswer)).toBe(false);
    expect(await store.idempotency.complete(target, jsonAnswer)).toBe(true);
    expect((await store.idempotency.begin(otherBody)).outcome).toBe("mismatch");
    // A second complete of a done record changes nothing.
    expect(await store.idempotency.complete(target, { ...jsonAnswer, status: 500 })).toBe(false);
    const replay = await store.idempotency.begin(target);
    expect(replay.outcome === "done" && replay.record.response).toEqual(jsonAnswer);
  });

  it("scopes keys per tenant", async () => {
    expect((await store.idempotency.begin(target)).outcome).toBe("started");
    expect((await store.idempotency.begin({ ...target, tenant: "beta" })).outcome).toBe("started");
    expect((await store.idempotency.begin(target)).outcome).toBe("in_progress");
  });

  it("lets a retry start again after release, or once a dead request's lock runs out", async () => {
    await store.idempotency.begin(target, { now: T0 });
    expect(await store.idempotency.release(target)).toBe(true);
    expect(await store.idempotency.release(target)).toBe(false);
    expect(await store.idempotency.begin(target, { now: T0, lockMs: 60_000 })).toEqual({ outcome: "started" });
    expect((await store.idempotency.begin(target, { now: T0 + 59_999 })).outcome).toBe("in_progress");
    // The first request never completed (its instance died): after the lock, a retry takes over.
    expect(await store.idempotency.begin(target, { now: T0 + 60_000 })).toEqual({ outcome: "started" });
    expect(await store.idempotency.complete(target, jsonAnswer)).toBe(true);
    // A done record is not "locked": it is replayed for the whole window.
    expect((await store.idempotency.begin(target, { now: T0 + 10 * HOUR })).outcome).toBe("done");
  });

  it("honours a configured window and purges expired records", async () => {
    await store.idempotency.begin(target, { now: T0, ttlMs: HOUR });
    await store.idempotency.complete(target, jsonAnswer);
    await store.idempotency.begin({ ...target, key: "retry-2" }, { now: T0 });
    expect((await store.idempotency.begin(target, { now: T0 + HOUR - 1 })).outcome).toBe("done");
    expect(await store.idempotency.purgeExpired(T0 + HOUR)).toBe(1);
    expect(await backend.raw("SELECT idempotency_key FROM llm_relay_idempotency")).toEqual([
      { idempotency_key: "retry-2" },
    ]);
    expect((await store.idempotency.begin(target, { now: T0 + HOUR })).outcome).toBe("started");
    expect(await store.idempotency.purgeExpired(T0 + 2 * DEFAULT_IDEMPOTENCY_TTL_MS)).toBe(2);
  });

  it("starts exactly one of 20 concurrent begins with one key through two instances", async () => {
    const other = await backend.open();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).idempotency.begin(target)),
    );
    expect(results.filter((r) => r.outcome === "started")).toHaveLength(1);
    expect(results.filter((r) => r.outcome === "in_progress")).toHaveLength(19);
    expect(await backend.raw("SELECT state FROM llm_relay_idempotency")).toEqual([{ state: "in_progress" }]);
  });
});
