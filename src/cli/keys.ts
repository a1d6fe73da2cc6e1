/**
 * `llm-relay keys create|list|revoke`: API keys of the proxy's tenants, in
 * the tenancy store of the config's database (the SQLite logs.db, or
 * PostgreSQL with `database_url`), or of `--db PATH` / `--database-url URL`.
 * The plaintext key is printed once, by `create`; `list` never shows it.
 */
import { renderTable } from "./text-table.js";
import { Command, InvalidArgumentError } from "commander";
import { formatUsd } from "../catalog/format-usd.js";
import { ConfigError } from "../config/load.js";
import { modelList, positiveInt } from "./arg-parsers.js";
import { withCommonOptions } from "./common-options.js";
import { formatDuration, parseDuration } from "../tenancy/instants.js";
import { describeTarget, openTenancyStore, resolveTenancyTarget } from "../tenancy/open-store.js";
import { TenancyInputError, type TenancyStore } from "../tenancy/store.js";
import type { ApiKey } from "../tenancy/types.js";

/** Flags naming the database, common to the `keys` commands. */
export interface KeysDbFlags {
  config?: string;
  db?: string;
  databaseUrl?: string;
}

/** Flags of `keys create`. */
export interface KeysCreateFlags extends KeysDbFlags {
  tenant: string;
  budgetUsd?: number;
  budgetPeriod?: number;
  rpm?: number;
  tpm?: number;
  models?: string[];
  json?: boolean;
}

/** Flags of `keys list`. */
export interface KeysListFlags extends KeysDbFlags {
  tenant?: string;
  json?: boolean;
}

function usd(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError("expected an amount in USD ≥ 0");
  return n;
}

function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function withDbOptions(command: Command): Command {
  return withCommonOptions(command, "config", "db", "databaseUrl");
}

/** Adds `keys create`, `keys list` and `keys revoke` to the program. */
export function registerKeys(program: Command): void {
  const keys = program
    .command("keys")
    .description("create, list and revoke API keys (a key is printed once, at creation)");
  withDbOptions(
    keys
      .command("create")
      .description("create a key for a tenant and print it (only this once)")
      .requiredOption("--tenant <name>", "the tenant the key belongs to")
      .option("--budget-usd <usd>", "spend allowed per budget period, in USD", usd)
      .option("--budget-period <duration>", "budget period: 30d, 12h, 2w… (default: the key's whole life)", duration)
      .option("--rpm <n>", "requests per minute", positiveInt)
      .option("--tpm <n>", "tokens per minute", positiveInt)
      .option("--models <a,b>", "the only models the key may call", modelList)
      .option("--json", "print the key and its record as JSON"),
  ).action((flags: KeysCreateFlags) => run(flags, (store) => createKey(store, flags)));
  withDbOptions(
    withCommonOptions(
      keys
        .command("list")
        .description("list keys (never the key itself): id, tenant, prefix, created, revoked, limits")
        .option("--tenant <name>", "only this tenant's keys"),
      "json",
    ),
  ).action((flags: KeysListFlags) => run(flags, (store) => listKeys(store, flags)));
  withDbOptions(
    keys
      .command("revoke")
      .description("revoke a key: it is refused from now on")
      .argument("<id>", "the key's id (key_…)"),
  ).action((id: string, flags: KeysDbFlags) => run(flags, (store) => revokeKey(store, id)));
}

/** Opens the store the flags name, runs `fn`, closes the store; errors become a message and exit code 1. */
async function run(flags: KeysDbFlags, fn: (store: TenancyStore) => Promise<void>): Promise<void> {
  let store: TenancyStore | null = null;
  let where = "the database";
  try {
    const target = resolveTenancyTarget(flags);
    where = describeTarget(target);
    store = await openTenancyStore(target);
    await fn(store);
  } catch (error) {
    const message =
      error instanceof ConfigError || error instanceof TenancyInputError
        ? error.message
        : `${where}: ${(error as Error).message}`;
    process.stderr.write(`llm-relay: ${message}\n`);
    process.exitCode = 1;
  } finally {
    await store?.close();
  }
}

async function createKey(store: TenancyStore, flags: KeysCreateFlags): Promise<void> {
  if (flags.budgetPeriod !== undefined && flags.budgetUsd === undefined)
    throw new TenancyInputError("--budget-period needs --budget-usd");
  const { key, plaintext } = await store.keys.create({
    tenant: flags.tenant,
    budgetUsd: flags.budgetUsd ?? null,
    budgetPeriodMs: flags.budgetPeriod ?? null,
    rpm: flags.rpm ?? null,
    tpm: flags.tpm ?? null,
    models: flags.models ?? null,
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ key: plaintext, ...key }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${plaintext}\n`);
  process.stderr.write(
    `Created ${key.id} for tenant ${key.tenant} (${key.prefix}…, ${limitsText(key)}). Keep the key now: it is not shown again.\n`,
  );
}

async function listKeys(store: TenancyStore, flags: KeysListFlags): Promise<void> {
  const keys = await store.keys.list(flags.tenant === undefined ? {} : { tenant: flags.tenant });
  process.stdout.write(flags.json ? `${JSON.stringify(keys, null, 2)}\n` : formatKeysTable(keys));
}

async function revokeKey(store: TenancyStore, id: string): Promise<void> {
  const before = await store.keys.get(id);
  if (!before) throw new TenancyInputError(`no key with id ${id}`);
  if (before.revokedAt !== null) {
    process.stdout.write(`${id} was already revoked at ${shortTime(before.revokedAt)} UTC\n`);
    return;
  }
  const key = await store.keys.revoke(id);
  process.stdout.write(
    `Revoked ${id} (tenant ${before.tenant}, ${before.prefix}…) at ${shortTime(key!.revokedAt!)} UTC\n`,
  );
}

/** `2026-11-21 13:51:12` from an ISO time. */
function shortTime(iso: string): string {
  return iso.slice(0, 19).replace("T", " ");
}

/** A key's budget: `$12.5/30d`, `$5` (whole life), or `-`. */
export function budgetText(key: ApiKey): string {
  if (key.budgetUsd === null) return "-";
  return key.budgetPeriodMs === null
    ? formatUsd(key.budgetUsd)
    : `${formatUsd(key.budgetUsd)}/${formatDuration(key.budgetPeriodMs)}`;
}

function limitsText(key: ApiKey): string {
  const parts = [
    key.budgetUsd === null ? null : `budget ${budgetText(key)}`,
    key.rpm === null ? null : `${key.rpm} rpm`,
    key.tpm === null ? null : `${key.tpm} tpm`,
    key.models === null ? null : `models ${key.models.join(",")}`,
  ].filter((part) => part !== null);
  return parts.length === 0 ? "no limits" : parts.join(", ");
}

/** The keys as a table, oldest first; never the secret. */
export function formatKeysTable(keys: readonly ApiKey[]): string {
  const header = ["id", "tenant", "prefix", "created (UTC)", "revoked (UTC)", "budget", "rpm", "tpm", "models"];
  const lines = keys.map((key) => [
    key.id,
    key.tenant,
    key.prefix,
    shortTime(key.createdAt),
    key.revokedAt === null ? "-" : shortTime(key.revokedAt),
    budgetText(key),
    key.rpm === null ? "-" : String(key.rpm),
    key.tpm === null ? "-" : String(key.tpm),
    key.models === null ? "*" : key.models.join(","),
  ]);
  return renderTable(header, lines);
}
