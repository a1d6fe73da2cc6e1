/**
 * `GET /v1/models` and `GET /v1/models/:model`, in OpenAI's shapes
 * (https://platform.openai.com/docs/api-reference/models/list and
 * https://platform.openai.com/docs/api-reference/models/retrieve): every
 * routable model (configured names, aliases, and the catalog models of
 * active presets as `<preset>/<model>`), `owned_by` = its provider, plus
 * the catalog's `context_window`, `max_output_tokens`, prices (the
 * deployment's own where the config sets them) and capabilities where known.
 *
 * `GET /v1/models/{id}` answers as routing would: any name a chat request
 * would reach (a listed one, a pattern's, or one `default_model` catches,
 * e.g. `gpt-4o` on a proxy with no config, served by `echo`) is found, with
 * the list's object shape; a name nothing serves is 404 `model_not_found`.
 */
import type { FastifyInstance } from "fastify";
import { routableModels, routedModel, type RoutableModel } from "../../catalog/routable-models.js";
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
    const model = routedModel(ctx.router, id);
    if (!model) throw modelNotFound(id);
    return toModelObject(model, unixSeconds(ctx.startedAt));
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
