/**
 * `GET /v1/models` and `GET /v1/models/:model`, in OpenAI's list shape
 * (https://platform.openai.com/docs/api-reference/models/list).
 */
import type { FastifyInstance } from "fastify";
import { unixSeconds } from "../../protocol/chat-completion.js";
import { modelNotFound } from "../../protocol/errors.js";
import type { ServerContext } from "../context.js";

/** Registers the routes. */
export function registerModels(app: FastifyInstance, ctx: ServerContext): void {
  const list = () =>
    ctx.router.listModels().map((model) => ({ id: model.id, object: "model", created: unixSeconds(ctx.startedAt), owned_by: model.provider }));

  app.get("/v1/models", async () => ({ object: "list", data: list() }));

  app.get<{ Params: { "*": string } }>("/v1/models/*", async (request) => {
    const id = request.params["*"];
    const model = list().find((entry) => entry.id === id);
    if (!model) throw modelNotFound(id);
    return model;
  });
}
