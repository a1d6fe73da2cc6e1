/**
 * `GET /ui/api/budgets` → `BudgetView[]`: every active API key with a USD budget and every tenant
 * with one (`tenants:` in the config), with what the current period has spent and what is left — the
 * same sums admission checks (`ledger.budgetSpend`: a key's period is `[now − budget_period, now)`, from
 * its creation without one; a tenant's `[now − period, now)`, all time without one).
 */
import type { FastifyInstance } from "fastify";
import { nanoUsdToUsd, usdToNanoUsd } from "../../tenancy/nano-usd.js";
import type { TenancyStore } from "../../tenancy/store.js";
import type { TenantBudget } from "../../config/load.js";
import { envelope } from "../envelope.js";
import type { BudgetView } from "./api-types.js";
import type { UiContext } from "./ui-context.js";

/**
 * The budgets and their spend now: keys first (by tenant, then id), then tenants (by name).
 * @throws the store's error when keys or the ledger cannot be read
 */
export async function budgetViews(
  tenancy: TenancyStore,
  tenantBudgets: Record<string, TenantBudget>,
  now = Date.now(),
): Promise<BudgetView[]> {
  const keys = (await tenancy.keys.list())
    .filter((key) => key.revokedAt === null && key.budgetUsd !== null)
    .sort((a, b) => a.tenant.localeCompare(b.tenant) || a.id.localeCompare(b.id));
  const views: BudgetView[] = [];
  for (const key of keys) {
    const since = key.budgetPeriodMs === null ? key.createdAt : now - key.budgetPeriodMs;
    const spent = await tenancy.ledger.budgetSpend({ keyId: key.id }, since);
    views.push(view("key", key.id, key.tenant, key.prefix, key.budgetUsd!, key.budgetPeriodMs, spent));
  }
  for (const tenant of Object.keys(tenantBudgets).sort()) {
    const budget = tenantBudgets[tenant]!;
    const spent = await tenancy.ledger.budgetSpend({ tenant }, budget.periodMs === null ? 0 : now - budget.periodMs);
    views.push(view("tenant", tenant, tenant, null, budget.budgetUsd, budget.periodMs, spent));
  }
  return views;
}

function view(
  scope: BudgetView["scope"],
  id: string,
  tenant: string,
  prefix: string | null,
  budgetUsd: number,
  periodMs: number | null,
  spentNanoUsd: number,
): BudgetView {
  return {
    scope,
    id,
    tenant,
    prefix,
    budgetUsd,
    periodMs,
    spentUsd: nanoUsdToUsd(spentNanoUsd),
    leftUsd: nanoUsdToUsd(usdToNanoUsd(budgetUsd) - spentNanoUsd),
  };
}

/** Registers `GET /ui/api/budgets` (an empty list when there is no tenancy store). */
export function registerUiBudgets(app: FastifyInstance, ui: UiContext): void {
  app.get("/ui/api/budgets", async () => {
    const views = ui.tenancy ? await budgetViews(ui.tenancy, ui.tenantBudgets) : [];
    return envelope({ data: views, message: `${views.length} budget${views.length === 1 ? "" : "s"}` });
  });
}
