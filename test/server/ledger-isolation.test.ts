/**
 * The usage ledger isolated by tenant, on SQLite (the logs.db): the attacks
 * of `ledger-isolation-attacks.ts` through `POST /internal/usage` on a real
 * proxy, with real chat exchanges booked in the ledger.
 */
import { rows } from "../helpers/db.js";
import { ledgerIsolationSuite, type LedgerRow } from "./ledger-isolation-attacks.js";

ledgerIsolationSuite({
  setUp: () => Promise.resolve(),
  tearDown: () => Promise.resolve(),
  overrides: () => ({}),
  ledgerRows: (proxy) =>
    Promise.resolve(
      rows<LedgerRow>(
        proxy.dbPath,
        "SELECT id, tenant_id, key_id, idempotency_key, cost_usd FROM llm_relay_usage ORDER BY created_at, id",
      ),
    ),
});
