/**
 * `npm run bench:admission`: the cost of admission's budget check (µs per
 * call, a key's and a tenant's) as the usage ledger grows — 0, 10k and 300k
 * rows — with the running totals (`UsageLedger.budgetSpend`, what
 * `Admission.budgetRemaining`/`tenantBudgetRemaining` call) against the old
 * check run in the same process on the same rows (`UsageLedger.spend`: a
 * `SUM(cost_usd)` over the period, its statement prepared on every call).
 *
 *   npm run bench:admission -- [--engine sqlite|postgres|all] [--levels 0,10000,300000] [--keys 4] [--ms 400]
 *
 * The ledger: one tenant, its rows spread evenly over `--keys` keys and the
 * last 30 days (the budget period, so every row counts). Each check runs for
 * `--ms` (at least 3 calls). Prints a table and writes
 * bench-results/admission-<ISO>.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { pino } from "pino";
import { createRateLimiter } from "../../src/ratelimit/index.js";
import { Admission } from "../../src/server/admission.js";
import { PostgresTenancyStore } from "../../src/tenancy/postgres/postgres-tenancy-store.js";
import { SqliteTenancyStore } from "../../src/tenancy/sqlite/sqlite-tenancy-store.js";
import type { TenancyStore } from "../../src/tenancy/store.js";
import type { ApiKey, UsageEvent } from "../../src/tenancy/types.js";

const { values: args } = parseArgs({
  options: {
    engine: { type: "string", default: "all" },
    levels: { type: "string", default: "0,10000,300000" },
    keys: { type: "string", default: "4" },
    ms: { type: "string", default: "400" },
    "database-url": {
      type: "string",
      default: process.env.LLM_RELAY_TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test",
    },
  },
});

const PERIOD_MS = 30 * 86_400_000;
const TENANT = "acme";
const levels = args.levels.split(",").map(Number);
/** Rows of the largest level: the fill spreads them over the period in insertion order (no back-dated row). */
const TOTAL = Math.max(1, ...levels);
const keyCount = Number(args.keys);
const measureMs = Number(args.ms);
const engines = args.engine === "all" ? (["sqlite", "postgres"] as const) : [args.engine as "sqlite" | "postgres"];

/** One measured check. */
interface Row {
  engine: string;
  rows: number;
  check: "key" | "tenant";
  newUs: number;
  oldUs: number;
  ratio: number;
}

/** µs per call of `fn`, run for `measureMs` (at least 3 calls) after one warm-up call. */
async function perCall(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  let calls = 0;
  const start = performance.now();
  while (calls < 3 || performance.now() - start < measureMs) {
    await fn();
    calls++;
  }
  return ((performance.now() - start) * 1000) / calls;
}

/** An engine's store with a way to add ledger rows fast, and its cleanup. */
interface Engine {
  store: TenancyStore;
  /** Adds `count` rows (costs 0.0001–0.0010 USD), continuing in time order: row i of the largest level is created at i/total of the last 30 days. */
  fill(count: number, keys: readonly ApiKey[]): Promise<void>;
  cleanup(): Promise<void>;
}

function sqliteEngine(): Engine {
  const dir = mkdtempSync(join(tmpdir(), "llm-relay-bench-admission-"));
  const store = SqliteTenancyStore.open(join(dir, "logs.db"));
  let written = 0;
  const now = Date.now();
  return {
    store,
    // Through the ledger's own batched write (the trigger keeps the totals, as in production).
    async fill(count, keys) {
      for (let done = 0; done < count;) {
        const chunk: UsageEvent[] = [];
        for (; chunk.length < 5000 && done < count; done++, written++) {
          chunk.push({
            tenantId: TENANT,
            keyId: keys[written % keys.length]!.id,
            model: "gpt-4o-mini",
            inputTokens: 100,
            outputTokens: 20,
            costUsd: ((written % 10) + 1) / 10_000,
            createdAt: now - PERIOD_MS + 60_000 + Math.floor(((PERIOD_MS - 120_000) * written) / TOTAL),
          });
        }
        await store.ledger.recordMany(chunk);
      }
    },
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresEngine(): Promise<Engine> {
  const url = args["database-url"];
  const schema = `lr_bench_${randomBytes(6).toString("hex")}`;
  const admin = postgres(url, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`CREATE SCHEMA "${schema}"`);
  await admin.unsafe(`SET search_path TO "${schema}"`);
  const store = await PostgresTenancyStore.open(url, { schema });
  let written = 0;
  return {
    store,
    // One INSERT … SELECT per 50k rows: the triggers still run for every row.
    async fill(count, keys) {
      const ids = keys.map((k) => k.id);
      for (let done = 0; done < count; done += 50_000) {
        const n = Math.min(50_000, count - done);
        await admin.unsafe(
          `INSERT INTO llm_relay_usage (id, tenant_id, key_id, model, token_type, operation, input_tokens, output_tokens, tokens, cost_usd,
             estimated, idempotency_key, created_at)
           SELECT 'usage_b' || ($1::int + g), $2, ($3::text[])[1 + ($1::int + g) % $4::int], 'gpt-4o-mini', 'llm', 'query', 100, 20, 120,
             (1 + ($1::int + g) % 10) / 10000.0, false, 'bench_' || ($1::int + g),
             now() - interval '30 days' + interval '1 minute' + (($1::int + g)::float8 / $5::float8) * (interval '30 days' - interval '2 minutes')
           FROM generate_series(0, $6::int - 1) AS g`,
          [written, TENANT, ids, ids.length, TOTAL, n],
        );
        written += n;
      }
      await admin.unsafe(`ANALYZE llm_relay_usage`);
    },
    async cleanup() {
      await store.close();
      await admin.unsafe(`DROP SCHEMA "${schema}" CASCADE`);
      await admin.end({ timeout: 5 });
    },
  };
}

async function benchEngine(name: "sqlite" | "postgres"): Promise<Row[]> {
  const engine = name === "sqlite" ? sqliteEngine() : await postgresEngine();
  const out: Row[] = [];
  try {
    const { store } = engine;
    const keys: ApiKey[] = [];
    for (let i = 0; i < keyCount; i++)
      keys.push((await store.keys.create({ tenant: TENANT, budgetUsd: 1_000_000, budgetPeriodMs: PERIOD_MS })).key);
    const key = keys[0]!;
    const admission = new Admission(store, createRateLimiter(), {
      auth: "required",
      logger: pino({ level: "silent" }),
      tenantBudgets: { [TENANT]: { budgetUsd: 1_000_000, periodMs: PERIOD_MS } },
    });
    let have = 0;
    for (const level of levels) {
      const fillStart = performance.now();
      await engine.fill(level - have, keys);
      have = level;
      process.stderr.write(
        `${name}: ${level} rows (filled in ${((performance.now() - fillStart) / 1000).toFixed(1)} s)\n`,
      );
      // The old check: admission before the running totals (budget − SUM over the period).
      const oldKey = () =>
        store.ledger.spend({ keyId: key.id }, Date.now() - PERIOD_MS).then((spent) => 1_000_000 - spent);
      const oldTenant = () =>
        store.ledger.spend({ tenant: TENANT }, Date.now() - PERIOD_MS).then((spent) => 1_000_000 - spent);
      for (const [check, fresh, old] of [
        ["key", () => admission.budgetRemaining(key), oldKey],
        ["tenant", () => admission.tenantBudgetRemaining(TENANT), oldTenant],
      ] as const) {
        const [a, b] = [await fresh(), await old()];
        if (Math.abs(a! - b) > 1e-6) throw new Error(`${name} ${check} at ${level} rows: new ${a} ≠ old ${b}`);
        const newUs = await perCall(fresh);
        const oldUs = await perCall(old);
        out.push({ engine: name, rows: level, check, newUs, oldUs, ratio: oldUs / newUs });
      }
    }
  } finally {
    await engine.cleanup();
  }
  return out;
}

const results: Row[] = [];
for (const engine of engines) results.push(...(await benchEngine(engine)));

const header = ["engine", "ledger rows", "check", "new µs/call", "old SUM µs/call", "old/new"];
const cells = results.map((r) => [
  r.engine,
  String(r.rows),
  r.check,
  r.newUs.toFixed(1),
  r.oldUs.toFixed(1),
  `${r.ratio.toFixed(1)}×`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
const line = (c: string[]) => c.map((v, i) => (i < 3 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ");
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const c of cells) console.log(line(c));
console.log(
  `one tenant, ${keyCount} keys (the key checked holds 1/${keyCount} of the rows), every row inside the 30-day period; new = Admission.budgetRemaining / tenantBudgetRemaining (running totals), old = budget − ledger.spend (SUM)`,
);
mkdirSync("bench-results", { recursive: true });
const file = join("bench-results", `admission-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, `${JSON.stringify({ levels, keys: keyCount, measureMs, results }, null, 2)}\n`);
console.log(`wrote ${file}`);
