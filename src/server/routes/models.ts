/**
 * `GET /v1/models` and `GET /v1/models/:model`, in OpenAI's list shape
 * (https://platform.openai.com/docs/api-reference/models/list): every
 * routable model (configured names, aliases, and the catalog models of
 * active presets as `<preset>/<model>`), `owned_by` = its provider, plus
 * the catalog's `context_window`, `max_output_tokens`, prices and
 * capabilities where known.
 */
import type { FastifyInstance } from "fastify";
import { routableModels, type RoutableModel } from "../../catalog/routable-models.js";
import { unixSeconds } from "../../protocol/chat-completion.js";
import { modelNotFound } from "../../protocol/errors.js";
import type { ServerContext } from "../context.js";

/** One entry of the list: OpenAI's model object plus the catalog's fields that are known. */
export interface ModelObject {
  id: string;
  object: "model";
  /** Server start, in s since the epoch. */
  created: number;
  owned_by: string;
  context_window?: number;
  max_output_tokens?: number;
  input_usd_per_mtok?: number;
  output_usd_per_mtok?: number;
  supports_tools?: boolean;
  supports_vision?: boolean;
}

/** Registers the routes. */
export function registerModels(app: FastifyInstance, ctx: ServerContext): void {
  const list = () => routableModels(ctx.router).map((model) => toModelObject(model, unixSeconds(ctx.startedAt)));

  app.get("/v1/models", () => ({ object: "list", data: list() }));

  app.get<{ Params: { "*": string } }>("/v1/models/*", (request) => {
    const id = request.params["*"];
    const model = list().find((entry) => entry.id === id);
    if (!model) throw modelNotFound(id);
    return model;
  });
}

function toModelObject(model: RoutableModel, created: number): ModelObject {
  const out: ModelObject = { id: model.id, object: "model", created, owned_by: model.provider };
  if (model.contextWindow !== null) out.context_window = model.contextWindow;
  if (model.maxOutputTokens !== null) out.max_output_tokens = model.maxOutputTokens;
  if (model.inputUsdPerMTok !== null) out.input_usd_per_mtok = model.inputUsdPerMTok;
  if (model.outputUsdPerMTok !== null) out.output_usd_per_mtok = model.outputUsdPerMTok;
  if (model.supportsTools !== null) out.supports_tools = model.supportsTools;
  if (model.supportsVision !== null) out.supports_vision = model.supportsVision;
  return out;
}
