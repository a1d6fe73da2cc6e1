/**
 * The proxy's models in the shapes of Ollama's model endpoints
 * (https://github.com/ollama/ollama/blob/main/docs/api.md): `GET /api/tags`
 * ("List Local Models"), `GET /api/ps` ("List Running Models") and
 * `POST /api/show` ("Show Model Information"). The names are the ones
 * `GET /v1/models` lists (catalog/routable-models.ts), unchanged (no `:latest`
 * is added: a client sends back the name it was shown).
 *
 * A proxy has no weights: `size` and `size_vram` are 0, `format` is "", the
 * `digest` is the SHA-256 of the name (stable, so clients can tell models
 * apart), `family` is the provider (`groq`, `openai-compatible`, …).
 * `/api/show` gives the context window as `model_info["<family>.context_length"]`
 * (where clients such as Continue read it) and `capabilities` from the catalog:
 * `completion`, `tools` unless the catalog says the model has none, `vision` when
 * it says it has it, `embedding` when the deployment's provider has embeddings.
 */
import { createHash } from "node:crypto";
import type { RoutableModel } from "../../catalog/routable-models.js";

/** Ollama's `details` of a model. */
export interface OllamaModelDetails {
  parent_model: string;
  format: string;
  family: string;
  families: string[];
  parameter_size: string;
  quantization_level: string;
}

/** One entry of `/api/tags`. */
export interface OllamaTagsModel {
  name: string;
  model: string;
  /** RFC 3339: the server's start. */
  modified_at: string;
  /** Bytes (0: a proxy has no weights). */
  size: number;
  digest: string;
  details: OllamaModelDetails;
}

/** One entry of `/api/ps`: a `/api/tags` entry with when it unloads and its VRAM. */
export interface OllamaPsModel extends OllamaTagsModel {
  /** RFC 3339; a proxy's models never unload. */
  expires_at: string;
  /** Bytes (0). */
  size_vram: number;
}

/** The answer of `/api/show`. */
export interface OllamaShowAnswer {
  modelfile: string;
  parameters: string;
  template: string;
  details: OllamaModelDetails;
  model_info: Record<string, unknown>;
  capabilities: string[];
  /** RFC 3339: the server's start. */
  modified_at: string;
}

/** `expires_at` of a model that never unloads (Ollama's own `keep_alive: -1` gives a far-future date too). */
const NEVER = "9999-12-31T23:59:59Z";

function details(model: RoutableModel): OllamaModelDetails {
  return {
    parent_model: "",
    format: "",
    family: model.provider,
    families: [model.provider],
    parameter_size: "",
    quantization_level: "",
  };
}

/**
 * A `/api/tags` entry.
 * @param startedAt the server's start, ms since the epoch
 */
export function tagsModel(model: RoutableModel, startedAt: number): OllamaTagsModel {
  return {
    name: model.id,
    model: model.id,
    modified_at: new Date(startedAt).toISOString(),
    size: 0,
    digest: createHash("sha256").update(model.id).digest("hex"),
    details: details(model),
  };
}

/** A `/api/ps` entry. */
export function psModel(model: RoutableModel, startedAt: number): OllamaPsModel {
  return { ...tagsModel(model, startedAt), expires_at: NEVER, size_vram: 0 };
}

/**
 * The `/api/show` answer.
 * @param embeddings whether the model's deployment serves embeddings
 */
export function showAnswer(model: RoutableModel, startedAt: number, embeddings: boolean): OllamaShowAnswer {
  const family = model.provider;
  const modelInfo: Record<string, unknown> = { "general.architecture": family, "general.basename": model.id };
  if (model.contextWindow !== null) modelInfo[`${family}.context_length`] = model.contextWindow;
  const capabilities = ["completion"];
  if (model.supportsTools !== false) capabilities.push("tools");
  if (model.supportsVision === true) capabilities.push("vision");
  if (embeddings) capabilities.push("embedding");
  return {
    modelfile: `# llm-relay model ${model.id} (provider: ${family})\nFROM ${model.id}\n`,
    parameters: "",
    template: "{{ .Prompt }}",
    details: details(model),
    model_info: modelInfo,
    capabilities,
    modified_at: new Date(startedAt).toISOString(),
  };
}
