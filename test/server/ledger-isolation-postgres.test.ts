/**
 * The usage ledger isolated by tenant, on PostgreSQL (the server `env`
 * describes, a throw-away schema per test): the attacks of
 * `ledger-isolation-attacks.ts` through `POST /internal/usage` on a real
 * proxy whose records and tenancy live in PostgreSQL.
 */
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { ledgerIsolationSuite, type LedgerRow } from "./ledger-isolation-attacks.js";

let schema: TestSchema | null = null;

ledgerIsolationSuite({
  setUp: async () => {
    schema = await createTestSchema();
  },
  tearDown: async () => {
    await schema?.drop();
    schema = null;
  },
  overrides: () => ({ databaseUrl: schema!.url }),
  ledgerRows: async () =>
    schema!.rows<LedgerRow>(
      "SELECT id, tenant_id, key_id, idempotency_key, cost_usd FROM llm_relay_usage ORDER BY created_at, id",
    ),
});
