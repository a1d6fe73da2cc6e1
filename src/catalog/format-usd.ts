/**
 * The one display form of an amount in USD, used by every terminal and HTML
 * table (`llm-relay logs`, `keys`, the bench's plan and report).
 */

/**
 * A cost in USD for a person to read: `$0`, `$1.5`, `$0.0123`, `$0.0000457`.
 * Amounts of a cent or more keep at most four decimals; smaller amounts keep
 * three significant digits (at most 12 decimals), never an exponent.
 * @param usd the amount in USD (≥ 0)
 */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0";
  if (usd >= 0.01) return `$${usd.toFixed(4).replace(/\.?0+$/, "")}`;
  const digits = Math.min(12, 2 - Math.floor(Math.log10(usd)));
  return `$${usd.toFixed(digits).replace(/0+$/, "")}`;
}
