/**
 * The budget's unit: whole nano-USD (1e-9 USD). Ledger rows keep `cost_usd`
 * as a float; the running spend totals (`key_total_nusd`,
 * `tenant_total_nusd`) add each row's cost rounded to a whole nano-USD, so a
 * total is exact integer arithmetic (no float drift however many rows), and
 * a budget is compared in the same unit. Both engines round the same way
 * (half away from zero of `cost_usd × 1e9`).
 */

/** nano-USD in one USD. */
export const NANO_USD_PER_USD = 1_000_000_000;

/** USD (≥ 0) as whole nano-USD, rounded half away from zero (as the ledger's triggers round each row's cost). */
export function usdToNanoUsd(usd: number): number {
  return Math.round(usd * NANO_USD_PER_USD);
}

/** Whole nano-USD as USD. */
export function nanoUsdToUsd(nanoUsd: number): number {
  return nanoUsd / NANO_USD_PER_USD;
}
