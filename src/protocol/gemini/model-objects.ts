/**
 * The proxy's routable models as the Gemini API's `Model` resources
 * (https://ai.google.dev/api/models#Model), for `GET /v1beta/models` (paged
 * with `pageSize`, `pageToken`: https://ai.google.dev/api/models#method:-models.list)
 * and `GET /v1beta/models/{model}`.
 */
import { invalidRequest } from "../errors.js";
import { GEMINI_METHODS } from "./method-path.js";

/** What a model object is made from (a `RoutableModel` of catalog/routable-models.ts satisfies it). */
export interface ModelFacts {
  /** The name a client sends. */
  id: string;
  /** The preset name or provider kind serving it. */
  provider: string;
  /** Context window, in tokens, or null when unknown. */
  contextWindow: number | null;
  /** Largest answer, in tokens, or null when unknown. */
  maxOutputTokens: number | null;
}

/** A `Model` resource. */
export interface GeminiModel {
  /** `models/<id>`: what Google's SDKs send back as the model. */
  name: string;
  baseModelId: string;
  displayName: string;
  description: string;
  /** Context window, in tokens, when known. */
  inputTokenLimit?: number;
  /** Largest answer, in tokens, when known. */
  outputTokenLimit?: number;
  supportedGenerationMethods: string[];
}

/** One page of `models.list`. */
export interface ModelPage {
  models: GeminiModel[];
  /** The `pageToken` of the next page; absent on the last. */
  nextPageToken?: string;
}

/** Models per page when `pageSize` is absent or 0, and the most a page holds (Google's figures). */
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

/** The `Model` resource of a routable model. */
export function geminiModel(model: ModelFacts): GeminiModel {
  const out: GeminiModel = {
    name: `models/${model.id}`,
    baseModelId: model.id,
    displayName: model.id,
    description: `${model.id} through llm-relay (${model.provider})`,
    supportedGenerationMethods: [...GEMINI_METHODS],
  };
  if (model.contextWindow !== null) out.inputTokenLimit = model.contextWindow;
  if (model.maxOutputTokens !== null) out.outputTokenLimit = model.maxOutputTokens;
  return out;
}

/**
 * One page of the models, from the `pageSize` and `pageToken` query parameters (the token is the
 * offset the previous page handed out).
 * @throws RelayError 400 for a `pageSize` that is not a non-negative integer or a `pageToken` this server did not give
 */
export function modelPage(models: readonly ModelFacts[], pageSize: unknown, pageToken: unknown): ModelPage {
  const size = pageSizeOf(pageSize);
  const start = offsetOf(pageToken, models.length);
  const end = Math.min(models.length, start + size);
  const page: ModelPage = { models: models.slice(start, end).map(geminiModel) };
  if (end < models.length) page.nextPageToken = String(end);
  return page;
}

function pageSizeOf(value: unknown): number {
  if (value === undefined || value === "") return DEFAULT_PAGE_SIZE;
  const size = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(size))
    throw invalidRequest("Invalid value at 'pageSize': expected a non-negative integer.", "pageSize");
  return size === 0 ? DEFAULT_PAGE_SIZE : Math.min(size, MAX_PAGE_SIZE);
}

function offsetOf(value: unknown, total: number): number {
  if (value === undefined || value === "") return 0;
  const offset = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(offset) || offset > total)
    throw invalidRequest("Invalid value at 'pageToken': not a page token of this server's model list.", "pageToken");
  return offset;
}
