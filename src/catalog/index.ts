/**
 * The model catalog: context windows, output limits, prices and
 * capabilities of the hosted models each preset serves. The numbers are
 * data (`data/<provider>.json`), validated with zod on first use.
 */
export type { CatalogModel } from "./types.js";
export { lookupModel, catalogModels, catalogProviders, stripSnapshotSuffix } from "./lookup.js";
export { CatalogError, loadCatalogFiles } from "./load-catalog.js";
export { isProviderModel, parseProviderModel, type ProviderModel } from "./provider-model.js";
export { exchangeCostUsd, priceEntry, cachedPromptTokens, type CostInput, type CachedPromptTokens } from "./cost.js";
/** Provider kinds that run on the user's own hardware (modules marked `local`): their tokens cost nothing. */
export { LOCAL_PROVIDER_KINDS } from "../providers/local-kinds.js";
export { routableModels, type ModelSource, type RoutableModel } from "./routable-models.js";
