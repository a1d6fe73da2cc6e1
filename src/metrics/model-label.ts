/**
 * The values the metrics' `model` label may take: only routable model
 * names, so that the series stay bounded whatever names clients send
 * (each label value of a histogram is about 16 series). Any other name —
 * one that reached a deployment only through a `prefix/*` pattern or
 * `default_model`, or was refused before any deployment — counts as
 * {@link OTHER_MODEL}.
 */
import { routableModels, type ModelSource } from "../catalog/routable-models.js";

/** The label value of every model name outside the routable ones. */
export const OTHER_MODEL = "other";

/**
 * The routable names: every id `GET /v1/models` lists (configured names,
 * aliases, patterns, active presets' catalog models) and every key of the
 * config's `models:`.
 * @throws CatalogError when a catalog data file is invalid
 */
export function routableModelNames(source: ModelSource, configured: Iterable<string>): Set<string> {
  const names = new Set(configured);
  for (const model of routableModels(source)) names.add(model.id);
  return names;
}

/**
 * The `model` label of an exchange: the name the client asked for when it
 * is routable and the exchange reached a deployment, else {@link OTHER_MODEL}.
 * @param routable the names of {@link routableModelNames}
 * @param deployment the deployment that served it, or null when none was reached
 */
export function modelLabel(routable: ReadonlySet<string>, requestedModel: string, deployment: string | null): string {
  return deployment !== null && routable.has(requestedModel) ? requestedModel : OTHER_MODEL;
}
