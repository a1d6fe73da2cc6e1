/**
 * `llm-relay keys create|list|revoke` as processes, on a SQLite logs.db
 * (named by --db, or by a config file's `db:`) and on PostgreSQL
 * (--database-url): the key is printed once and works (the store verifies
 * it with its limits), `list` shows its prefix and limits but never the
 * key, `revoke` makes it fail at once, and bad input is refused with a
 * message and exit code 1, writing nothing.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SqliteTenancyStore } from "../../src/tenancy/sqlite/sqlite-tenancy-store.js";
import { killAll, runCli, type CliResult } from "../helpers/cli.js";
import { rows } from "../helpers/db.js";
import { tempDir } from "../helpers/proxy.js";
import { createBackend, type Backend } from "../tenancy/backends.js";
import { match } from "../helpers/matchers.js";

const KEY = /^lr-[0-9A-Za-z]{40}$/;

/** Verifies a key on the file with a fresh store, as the proxy would. */
async function verifyOn(file: string, plaintext: string, includeRevoked = false) {
  const store = SqliteTenancyStore.open(file);
  try {
    return await store.keys.verify(plaintext, { includeRevoked });
  } finally {
    await store.close();
  }
}

function ok(result: CliResult): CliResult {
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  return result;
}

let cwd: string;
beforeAll(() => {
  cwd = tempDir("llm-relay-keys-");
});
afterEach(async () => {
  await killAll();
});

describe("keys on a SQLite logs.db", () => {
  it("creates a key printed once, lists it without the secret, and revokes it", async () => {
    const db = path.join(cwd, "data", "logs.db");
    const created = ok(
      await runCli(
        [
          "keys",
          "create",
          "--tenant",
          "acme",
          "--budget-usd",
          "12.5",
          "--budget-period",
          "30d",
          "--rpm",
          "60",
          "--tpm",
          "90000",
          "--models",
          "gpt-4o-mini, echo",
          "--db",
          db,
        ],
        { cwd },
      ),
    );
    const plaintext = created.stdout.trim();
    expect(plaintext).toMatch(KEY);
    expect(created.stderr).toContain("it is not shown again");
    const key = await verifyOn(db, plaintext);
    expect(key).toMatchObject({
      tenant: "acme",
      prefix: plaintext.slice(0, 11),
      budgetUsd: 12.5,
      budgetPeriodMs: 30 * 86_400_000,
      rpm: 60,
      tpm: 90_000,
      models: ["gpt-4o-mini", "echo"],
      revokedAt: null,
    });
    // The file is a logs.db too (llm's tables beside ours), and the secret is nowhere in it.
    expect(
      rows(
        db,
        "SELECT name FROM sqlite_master WHERE name IN ('responses', '_llm_migrations', 'llm_relay_keys') ORDER BY name",
      ),
    ).toHaveLength(3);
    expect(fs.readFileSync(db).includes(plaintext.slice(11))).toBe(false);

    ok(await runCli(["keys", "create", "--tenant", "beta", "--db", db], { cwd }));
    const table = ok(await runCli(["keys", "list", "--db", db], { cwd })).stdout;
    const lines = table.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^id\s+tenant\s+prefix\s+created \(UTC\)\s+revoked \(UTC\)\s+budget\s+rpm\s+tpm\s+models$/,
    );
    expect(lines).toHaveLength(3);
    expect(lines[1]!.split(/\s{2,}/)).toEqual([
      key!.id,
      "acme",
      plaintext.slice(0, 11),
      key!.createdAt.slice(0, 19).replace("T", " "),
      "-",
      "$12.5/30d",
      "60",
      "90000",
      "gpt-4o-mini,echo",
    ]);
    expect(lines[2]).toMatch(/^key_\w+\s+beta\s+lr-\w{8}\s+.*\s-\s+-\s+-\s+-\s+\*$/);
    expect(table).not.toContain(plaintext.slice(11));

    const listed = JSON.parse(
      ok(await runCli(["keys", "list", "--json", "--tenant", "acme", "--db", db], { cwd })).stdout,
    ) as unknown[];
    expect(listed).toEqual([key]);

    const revoked = ok(await runCli(["keys", "revoke", key!.id, "--db", db], { cwd }));
    expect(revoked.stdout).toContain(`Revoked ${key!.id} (tenant acme, ${key!.prefix}…)`);
    expect(await verifyOn(db, plaintext)).toBeNull();
    expect((await verifyOn(db, plaintext, true))?.revokedAt).not.toBeNull();
    const again = ok(await runCli(["keys", "revoke", key!.id, "--db", db], { cwd }));
    expect(again.stdout).toContain("was already revoked");
    const after = ok(await runCli(["keys", "list", "--db", db], { cwd })).stdout.split("\n")[1]!;
    expect(after.split(/\s{2,}/)[4]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it("uses the config file's db and prints JSON with --json", async () => {
    const dir = tempDir("llm-relay-keys-config-");
    fs.writeFileSync(path.join(dir, "llm-relay.yaml"), "db: ./from-config.db\n");
    const created = JSON.parse(
      ok(await runCli(["keys", "create", "--tenant", "team-a", "--budget-usd", "5", "--json"], { cwd: dir })).stdout,
    ) as Record<string, unknown>;
    expect(created).toMatchObject({
      key: match.stringMatching(KEY),
      tenant: "team-a",
      budgetUsd: 5,
      budgetPeriodMs: null,
      rpm: null,
    });
    const file = path.join(dir, "from-config.db");
    expect((await verifyOn(file, created.key as string))?.id).toBe(created.id);
    // -c names the file explicitly (its relative `db:` resolves against the working directory, as for `serve`).
    const listed = JSON.parse(
      ok(await runCli(["keys", "list", "--json", "-c", "llm-relay.yaml"], { cwd: dir })).stdout,
    ) as { id: string }[];
    expect(listed.map((k) => k.id)).toEqual([created.id]);
  });

  it("refuses bad input with exit code 1 and writes no key", async () => {
    const db = path.join(cwd, "bad.db");
    const cases: [string[], RegExp][] = [
      [["keys", "create", "--db", db], /required option '--tenant <name>'/],
      [["keys", "create", "--tenant", "a", "--rpm", "0", "--db", db], /--rpm <n>.*expected a positive integer/],
      [["keys", "create", "--tenant", "a", "--budget-usd", "-3", "--db", db], /--budget-usd <usd>.*expected an amount/],
      [
        ["keys", "create", "--tenant", "a", "--budget-usd", "3", "--budget-period", "monthly", "--db", db],
        /not a duration/,
      ],
      [["keys", "create", "--tenant", "a", "--budget-period", "30d", "--db", db], /--budget-period needs --budget-usd/],
      [["keys", "create", "--tenant", "a", "--models", " , ", "--db", db], /expected model names/],
      [["keys", "revoke", "key_nope", "--db", db], /no key with id key_nope/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, { cwd });
      expect(result.code, args.join(" ")).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe("");
    }
    if (fs.existsSync(db)) expect(rows(db, "SELECT id FROM llm_relay_keys")).toEqual([]);
  });
});

describe("keys on PostgreSQL", () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await createBackend("postgres");
  });
  afterAll(async () => {
    await backend.cleanup();
  });

  it("creates, lists and revokes keys in the database of --database-url", async () => {
    const url = backend.location;
    const plaintext = ok(
      await runCli(["keys", "create", "--tenant", "acme", "--tpm", "1000", "--database-url", url], { cwd }),
    ).stdout.trim();
    expect(plaintext).toMatch(KEY);
    const store = await backend.open();
    const key = await store.keys.verify(plaintext);
    expect(key).toMatchObject({ tenant: "acme", tpm: 1000, rpm: null });
    const stored = await backend.raw("SELECT prefix, key_hash FROM llm_relay_keys");
    expect(stored).toEqual([{ prefix: plaintext.slice(0, 11), key_hash: match.stringMatching(/^[0-9a-f]{64}$/) }]);
    const table = ok(await runCli(["keys", "list", "--database-url", url], { cwd })).stdout;
    expect(table).toContain(key!.id);
    expect(table).not.toContain(plaintext.slice(11));
    ok(await runCli(["keys", "revoke", key!.id, "--database-url", url], { cwd }));
    expect(await store.keys.verify(plaintext)).toBeNull();
  });

  it("fails with the database's error when PostgreSQL cannot be reached", async () => {
    const result = await runCli(["keys", "list", "--database-url", "postgres://postgres@127.0.0.1:1/test"], { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/llm-relay: postgres:\/\/postgres@127\.0\.0\.1:1\/test: .*ECONNREFUSED/);
  });
});
