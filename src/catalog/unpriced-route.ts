/**
 * Whether routing could send a request somewhere without a price: the
 * check behind admission's 403 `model_not_priced` for callers with a USD
 * budget (an unpriced exchange is recorded with no cost, so it would spend
 * nothing against the budget).
 */
import { deploymentLabel, type Route } from "../routing/router.js";
import { deploymentPrices, isPriced, type PricedUse } from "./cost.js";

/**
 * The first of `routes` (e.g. `Router.reachableRoutes`) that has no price
 * for `use` (see `isPriced`: the deployment's own prices, else the
 * catalog's, else 0 for a local provider), or null when every one is priced.
 * @throws CatalogError (first call only) when a catalog data file is invalid
 */
export function firstUnpricedRoute(routes: readonly Route[], use: PricedUse): Route | null {
  return (
    routes.find(
      (route) =>
        !isPriced(
          {
            provider: route.deployment.provider,
            deployment: deploymentLabel(route),
            upstreamModel: route.upstreamModel,
            prices: deploymentPrices(route.deployment),
          },
          use,
        ),
    ) ?? null
  );
}
