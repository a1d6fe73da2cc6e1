/**
 * Ollama's native API inbound (https://github.com/ollama/ollama/blob/main/docs/api.md),
 * what the `ollama` npm client, Open WebUI, Continue, Zed and most editors' "Ollama"
 * settings call:
 *
 * - `POST /api/chat`, `POST /api/generate`: exchanges on the one inbound runner
 *   (routing, retries, fallbacks, the recorder as protocol `ollama`, the body as
 *   received as `prompt_json`), JSON with `stream: false`, NDJSON otherwise
 *   (protocol/ollama/ollama-adapters.ts); a "load a model" request (no messages, no
 *   prompt) is answered at once, unrecorded (protocol/ollama/load-request.ts);
 * - `POST /api/embed`, `POST /api/embeddings`: the embeddings core (routes/embeddings.ts)
 *   with Ollama's shapes (protocol/ollama/embed.ts);
 * - `GET /api/tags`, `GET /api/ps`, `POST /api/show`: the models `GET /v1/models` lists
 *   (protocol/ollama/model-list.ts); `/api/show` answers for any name a request would be
 *   routed with (a name only `default_model` catches included), 404 otherwise;
 * - `GET /api/version`; `GET /` and `HEAD /`: "Ollama is running", as Ollama answers the
 *   probe clients send before anything else.
 *
 * The generation and embedding routes are billed (keys, budgets, rate limits: admission).
 * Errors everywhere under `/api/` are `{"error": "<message>"}` with the status
 * (server/errors.ts): 400 for a bad body naming the field, 404 for a model no deployment
 * serves, 401/403/429 from admission, the upstream's or 502/504 from an exchange.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from "fastify";
import { routableModels, type RoutableModel } from "../../catalog/routable-models.js";
import { invalidRequest } from "../../protocol/errors.js";
import {
  embedAnswer,
  embeddingsAnswer,
  parseOllamaEmbed,
  parseOllamaEmbeddings,
  type EmbedAnswerInput,
} from "../../protocol/ollama/embed.js";
import type { EmbeddingRequest } from "../../protocol/embeddings.js";
import type { EmbeddingResult } from "../../providers/types.js";
import { psModel, showAnswer, tagsModel } from "../../protocol/ollama/model-list.js";
import type { OllamaEndpoint } from "../../protocol/ollama/from-chat.js";
import { loadAnswer, loadRequestOf } from "../../protocol/ollama/load-request.js";
import {
  NDJSON_CONTENT_TYPE,
  ollamaChatAdapter,
  ollamaGenerateAdapter,
} from "../../protocol/ollama/ollama-adapters.js";
import { ollamaShowRequestSchema, validateOllamaBody } from "../../protocol/ollama/ollama-request.js";
import { providerModule } from "../../providers/modules.js";
import type { ServerContext } from "../context.js";
import { registerEmbeddingsRoute, type EmbeddingsFace } from "./embeddings.js";
import { registerInboundRoute } from "./inbound-exchange.js";
import { inboundContextOf } from "./record-lookup.js";

/**
 * The Ollama version `GET /api/version` reports: the release of Ollama's API whose
 * features are served here (`think` and `message.thinking`, `tool_name`, `/api/embed`
 * with `dimensions`), so clients that check a minimum version enable them.
 */
export const OLLAMA_API_VERSION = "0.12.0";

/** What `GET /` answers, as Ollama does. */
export const OLLAMA_ROOT_TEXT = "Ollama is running";

/** What Ollama's embeddings answers are made from: the provider's result and the exchange's facts. */
function answerInput(result: EmbeddingResult, body: EmbeddingRequest, elapsedMs: number): EmbedAnswerInput {
  return {
    rawBody: result.rawBody,
    model: body.model,
    input: body.input,
    promptTokens: result.promptTokens,
    elapsedMs,
  };
}

/** `/api/embed`: `input` → vectors as `embeddings`. */
const EMBED: EmbeddingsFace = {
  parse: parseOllamaEmbed,
  answer: (result, body, elapsedMs) => embedAnswer(answerInput(result, body, elapsedMs)),
};

/** `/api/embeddings`: `prompt` → one `embedding`. */
const EMBEDDINGS: EmbeddingsFace = {
  parse: parseOllamaEmbeddings,
  answer: (result, body, elapsedMs) => embeddingsAnswer(answerInput(result, body, elapsedMs)),
};

/** Registers Ollama's `/api/*` routes and `GET /`. */
export function registerOllama(app: FastifyInstance, ctx: ServerContext): void {
  const lookup = (request: Parameters<typeof inboundContextOf>[1]) => inboundContextOf(ctx, request);
  registerInboundRoute(app, ctx, "/api/chat", ollamaChatAdapter, lookup, {
    config: { billed: true },
    preHandler: answerLoad(ctx, "chat"),
  });
  registerInboundRoute(app, ctx, "/api/generate", ollamaGenerateAdapter, lookup, {
    config: { billed: true },
    preHandler: answerLoad(ctx, "generate"),
  });
  registerEmbeddingsRoute(app, ctx, "/api/embed", EMBED, { billed: true });
  registerEmbeddingsRoute(app, ctx, "/api/embeddings", EMBEDDINGS, { billed: true });

  const models = (): RoutableModel[] => routableModels(ctx.router);
  app.get("/api/tags", () => ({ models: models().map((model) => tagsModel(model, ctx.startedAt)) }));
  app.get("/api/ps", () => ({ models: models().map((model) => psModel(model, ctx.startedAt)) }));
  app.get("/api/version", () => ({ version: OLLAMA_API_VERSION }));

  app.post("/api/show", (request) => {
    const body = validateOllamaBody(ollamaShowRequestSchema, request.body);
    const name = body.model ?? body.name;
    if (name === undefined) throw invalidRequest("model is required", "model");
    // 404 `model_not_found` for a name no request could be routed with, as /api/chat would answer.
    const route = ctx.router.resolve(name);
    const model = models().find((entry) => entry.id === name) ?? unlistedModel(name, route.deployment);
    const embeddings = providerModule(route.deployment.provider).protocols.includes("embeddings");
    return showAnswer(model, ctx.startedAt, embeddings);
  });

  // Fastify answers HEAD with the GET route (exposeHeadRoutes).
  app.get("/", (_request, reply) => reply.type("text/plain; charset=utf-8").send(OLLAMA_ROOT_TEXT));
}

/**
 * Answers Ollama's "load a model" requests (protocol/ollama/load-request.ts) before the exchange runner:
 * at once, for a model a request could be routed with (else 404 as a generation would get); others go on.
 */
function answerLoad(ctx: ServerContext, endpoint: OllamaEndpoint): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    const load = loadRequestOf(endpoint, request.body);
    if (!load) return;
    ctx.router.resolve(load.model);
    const stream = (request.body as { stream?: unknown }).stream !== false;
    request.relayLogged = true;
    await reply
      .code(200)
      .header("content-type", stream ? NDJSON_CONTENT_TYPE : "application/json")
      .send(loadAnswer(endpoint, load));
  };
}

/** A name the list does not show but a route serves (e.g. through `default_model`): what its deployment says. */
function unlistedModel(
  name: string,
  deployment: { provider: string; context_window?: number | null; max_output_tokens?: number | null },
): RoutableModel {
  return {
    id: name,
    provider: deployment.provider,
    contextWindow: deployment.context_window ?? null,
    maxOutputTokens: deployment.max_output_tokens ?? null,
    inputUsdPerMTok: null,
    outputUsdPerMTok: null,
    supportsTools: null,
    supportsVision: null,
  };
}
