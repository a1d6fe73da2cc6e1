/**
 * API keys, the same on SQLite and PostgreSQL: a created key is shown once
 * and stored only as its SHA-256 with a visible prefix; verify accepts
 * exactly that key (not a tampered one, not a revoked one); list, revoke
 * and anyKeys behave as `keys list`/`keys revoke` and the auth hook need.
 */
import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TenancyStore } from "../../src/tenancy/store.js";
import { TenancyInputError } from "../../src/tenancy/store.js";
import { createBackend, ENGINES, type Backend } from "./backends.js";
import { match } from "../helpers/matchers.js";

describe.each(ENGINES)("API keys on %s", (engine) => {
  let backend: Backend;
  let store: TenancyStore;

  beforeEach(async () => {
    backend = await createBackend(engine);
    store = await backend.open();
  });
  afterEach(async () => {
    await backend.cleanup();
  });

  it("shows the plaintext once and stores only its SHA-256 and a short prefix", async () => {
    const { key, plaintext } = await store.keys.create({
      tenant: "acme",
      budgetUsd: 12.5,
      budgetPeriodMs: 30 * 86_400_000,
      rpm: 60,
      tpm: 90_000,
      models: ["gpt-4o-mini", "echo"],
    });
    expect(plaintext).toMatch(/^lr-[0-9A-Za-z]{40}$/);
    expect(key).toEqual({
      id: match.stringMatching(/^key_[0-9a-z]{26}$/),
      tenant: "acme",
      prefix: plaintext.slice(0, 11),
      createdAt: match.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      revokedAt: null,
      budgetUsd: 12.5,
      budgetPeriodMs: 30 * 86_400_000,
      rpm: 60,
      tpm: 90_000,
      models: ["gpt-4o-mini", "echo"],
    });
    const stored = await backend.raw("SELECT * FROM llm_relay_keys");
    expect(stored).toHaveLength(1);
    expect(stored[0]!.key_hash).toBe(createHash("sha256").update(plaintext).digest("hex"));
    // No column holds the secret part of the key.
    const secret = plaintext.slice(11);
    for (const value of Object.values(stored[0]!)) expect(JSON.stringify(value) ?? "").not.toContain(secret);
    expect(await store.keys.get(key.id)).toEqual(key);
  });

  it("verifies the exact key and nothing else", async () => {
    const { key, plaintext } = await store.keys.create({ tenant: "acme" });
    const other = await store.keys.create({ tenant: "beta" });
    expect(await store.keys.verify(plaintext)).toEqual(key);
    expect((await store.keys.verify(other.plaintext))?.tenant).toBe("beta");
    const lastChar = plaintext.at(-1) === "a" ? "b" : "a";
    // Same visible prefix, different secret: found by prefix, refused by the hash.
    expect(await store.keys.verify(plaintext.slice(0, -1) + lastChar)).toBeNull();
    expect(await store.keys.verify(`${plaintext}x`)).toBeNull();
    expect(await store.keys.verify("")).toBeNull();
    expect(await store.keys.verify("Bearer " + plaintext)).toBeNull();
    expect(await store.keys.verify(`lr-${"A".repeat(40)}`)).toBeNull();
  });

  it("refuses a revoked key at once, keeps the first revocation time, and says so when asked", async () => {
    const { key, plaintext } = await store.keys.create({ tenant: "acme" });
    // A second instance on the same database verifies before and after the revocation.
    const other = await backend.open();
    expect((await other.keys.verify(plaintext))?.id).toBe(key.id);
    const revoked = await store.keys.revoke(key.id, { now: "2026-11-21T10:00:00Z" });
    expect(revoked).toEqual({ ...key, revokedAt: "2026-11-21T10:00:00.000Z" });
    expect(await other.keys.verify(plaintext)).toBeNull();
    expect(await other.keys.verify(plaintext, { includeRevoked: true })).toEqual(revoked);
    expect(await store.keys.revoke(key.id, { now: "2026-11-22T10:00:00Z" })).toEqual(revoked);
    expect(await store.keys.revoke("key_unknown")).toBeNull();
  });

  it("lists every key oldest first, filters by tenant, and anyKeys stays true after revocations", async () => {
    expect(await store.keys.anyKeys()).toBe(false);
    expect(await store.keys.list()).toEqual([]);
    const a = await store.keys.create({ tenant: "acme" });
    const b = await store.keys.create({ tenant: "beta", rpm: 5 });
    const c = await store.keys.create({ tenant: "acme", models: ["echo"] });
    expect(await store.keys.anyKeys()).toBe(true);
    await store.keys.revoke(a.key.id);
    await store.keys.revoke(b.key.id);
    await store.keys.revoke(c.key.id);
    expect(await store.keys.anyKeys()).toBe(true);
    const all = await store.keys.list();
    expect(all.map((k) => k.id)).toEqual([a.key.id, b.key.id, c.key.id]);
    expect(all.every((k) => k.revokedAt !== null)).toBe(true);
    expect((await store.keys.list({ tenant: "acme" })).map((k) => k.id)).toEqual([a.key.id, c.key.id]);
    expect(await store.keys.list({ tenant: "nobody" })).toEqual([]);
    expect(all[1]).toMatchObject({
      tenant: "beta",
      rpm: 5,
      tpm: null,
      budgetUsd: null,
      budgetPeriodMs: null,
      models: null,
    });
  });

  it("rejects invalid limits with the field's name, and stores nothing", async () => {
    await expect(store.keys.create({ tenant: "  " })).rejects.toThrow(TenancyInputError);
    await expect(store.keys.create({ tenant: "acme", budgetUsd: -1 })).rejects.toThrow(/budgetUsd/);
    await expect(store.keys.create({ tenant: "acme", rpm: 1.5 })).rejects.toThrow(/rpm/);
    await expect(store.keys.create({ tenant: "acme", tpm: 0 })).rejects.toThrow(/tpm/);
    await expect(store.keys.create({ tenant: "acme", budgetPeriodMs: 0 })).rejects.toThrow(/budgetPeriodMs/);
    await expect(store.keys.create({ tenant: "acme", models: [] })).rejects.toThrow(/models/);
    expect(await store.keys.anyKeys()).toBe(false);
  });
});
