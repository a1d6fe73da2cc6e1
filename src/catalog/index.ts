/**
 * The model catalog: context windows, output limits, prices and
 * capabilities of the hosted models each preset serves. The numbers are
 * data (`data/<provider>.json`), validated with zod on first use.
 */
export type { CatalogModel } from "./types.js";
export { lookupModel, catalogModels, catalogProviders, stripSnapshotSuffix } from "./lookup.js";
export { CatalogError, loadCatalogFiles } from "./load-catalog.js";
export { isProviderModel, parseProviderModel, type ProviderModel } from "./provider-model.js";
export {
  exchangeCostUsd,
  priceEntry,
  modelPrice,
  isPriced,
  deploymentPrices,
  cachedPromptTokens,
  type CostInput,
  type CachedPromptTokens,
  type DeploymentPrices,
  type ModelPrice,
  type PricedUse,
} from "./cost.js";
/** Provider kinds that run on the user's own hardware (modules marked `local`): their tokens cost nothing. */
export { LOCAL_PROVIDER_KINDS } from "../providers/local-kinds.js";
export { routableModels, routedModel, type ModelSource, type RoutableModel } from "./routable-models.js";
