/**
 * The Gemini API inbound (https://ai.google.dev/api/generate-content,
 * https://ai.google.dev/api/tokens, https://ai.google.dev/api/models), what
 * Google's SDKs and Gemini CLI (`GOOGLE_GEMINI_BASE_URL`) call:
 *
 * - `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent`
 *   (`?alt=sse`: SSE; without it one JSON array) on the one inbound runner
 *   (`inbound-exchange.ts`) with the Gemini adapter, billed;
 * - `POST /v1beta/models/{model}:countTokens`: `{totalTokens}` from the proxy's own count;
 * - `GET /v1beta/models` (paged) and `GET /v1beta/models/{model}`: the routable models
 *   as `Model` resources.
 *
 * The model is only in the path and may hold `/`, so every method is a route on
 * `/v1beta/models/*`, told apart by a router constraint on the method after the
 * path's last `:` (`geminiMethod`); a `preValidation` hook sets
 * `request.inboundModel` so admission (key model restrictions, budgets) sees the
 * model. The key comes in `x-goog-api-key` or `?key=` (admission reads both);
 * errors on `/v1beta/*` take Google's shape (`server/errors.ts`).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { routableModels } from "../../catalog/routable-models.js";
import { invalidRequest } from "../../protocol/errors.js";
import { countGeminiTokens } from "../../protocol/gemini/count-tokens.js";
import { geminiAdapter, type GeminiCall } from "../../protocol/gemini/gemini-adapter.js";
import { MODELS_PREFIX, methodOfUrl, modelOfPath, type GeminiMethod } from "../../protocol/gemini/method-path.js";
import { geminiModel, modelPage } from "../../protocol/gemini/model-objects.js";
import type { ServerContext } from "../context.js";
import { registerInboundRoute } from "./inbound-exchange.js";
import { inboundContextOf } from "./record-lookup.js";

/** The router constraint telling the methods of `/v1beta/models/*` apart. */
const METHOD_CONSTRAINT = "geminiMethod";

/** A router constraint strategy, as Fastify takes it (find-my-way's `ConstraintStrategy`). */
type ConstraintStrategy = Parameters<FastifyInstance["addConstraintStrategy"]>[0];
/** What a strategy's storage keeps per value: the route's handler store. */
type RouteStore = Parameters<ReturnType<ConstraintStrategy["storage"]>["set"]>[1];

/** The `geminiMethod` constraint: the method a request's URL names ({@link methodOfUrl}). */
const methodStrategy: ConstraintStrategy = {
  name: METHOD_CONSTRAINT,
  storage() {
    const routes = new Map<unknown, RouteStore>();
    return {
      get: (method) => routes.get(method) ?? null,
      set: (method, store) => {
        routes.set(method, store);
      },
    };
  },
  deriveConstraint: (request) => methodOfUrl(request.url ?? ""),
  mustMatchWhenDerived: false,
};

/** The route path of every model URL. */
const MODEL_ROUTE = `${MODELS_PREFIX}*`;

/** Registers the Gemini API's `/v1beta/*` routes. */
export function registerGemini(app: FastifyInstance, ctx: ServerContext): void {
  app.addConstraintStrategy(methodStrategy);
  const lookup = (request: FastifyRequest) => inboundContextOf(ctx, request);
  const on = (method: GeminiMethod) => ({ [METHOD_CONSTRAINT]: method });

  registerInboundRoute(app, ctx, MODEL_ROUTE, (request) => geminiAdapter(callOf(request, false)), lookup, {
    constraints: on("generateContent"),
    config: { billed: true },
    preValidation: [setInboundModel(true), checkAlt(false)],
  });
  registerInboundRoute(app, ctx, MODEL_ROUTE, (request) => geminiAdapter(callOf(request, true)), lookup, {
    constraints: on("streamGenerateContent"),
    config: { billed: true },
    preValidation: [setInboundModel(true), checkAlt(true)],
  });

  app.post(MODEL_ROUTE, { constraints: on("countTokens"), preValidation: setInboundModel(true) }, (request, reply) => {
    // 400 naming the field for an invalid body; 404 for a model no deployment serves (as generateContent would answer).
    const counted = countGeminiTokens(request.body);
    ctx.router.resolve(request.inboundModel ?? "");
    return reply.code(200).send(counted);
  });

  app.get<{ Querystring: Record<string, unknown> }>("/v1beta/models", (request) =>
    modelPage(routableModels(ctx.router), request.query.pageSize, request.query.pageToken),
  );

  // A model's own URL has no method: all of it is the name (which may hold `:`, as Ollama's `llama3:8b`).
  app.get(MODEL_ROUTE, { preValidation: setInboundModel(false) }, (request) => {
    const id = request.inboundModel ?? "";
    const listed = routableModels(ctx.router).find((model) => model.id === id);
    if (listed) return geminiModel(listed);
    // A name only a pattern or the default model reaches is served all the same: described without limits.
    const route = ctx.router.resolve(id);
    return geminiModel({ id, provider: route.deployment.provider, contextWindow: null, maxOutputTokens: null });
  });
}

/**
 * The `preValidation` hook of the model routes: `request.inboundModel` from the path.
 * @param method whether the path ends with `:{method}` (the model is what comes before it), else it is all the name
 * @throws RelayError 400 when the path names no model
 */
function setInboundModel(method: boolean): (request: FastifyRequest) => Promise<void> {
  return (request) => {
    const rest = (request.params as { "*"?: string })["*"] ?? "";
    const model = method ? modelOfPath(rest) : rest;
    if (model === "")
      return Promise.reject(invalidRequest("The URL names no model: /v1beta/models/{model}:{method}.", "model"));
    request.inboundModel = model;
    return Promise.resolve();
  };
}

/**
 * The `preValidation` hook checking a generate request's `alt` (the response format).
 * @param stream whether the route streams (`streamGenerateContent` takes `alt=sse`)
 * @throws RelayError 400 for an `alt` other than `sse` (streams) or `json`
 */
function checkAlt(stream: boolean): (request: FastifyRequest) => Promise<void> {
  return (request) => {
    const alt = altOf(request);
    if (alt === undefined || alt === "json" || (stream && alt === "sse")) return Promise.resolve();
    return Promise.reject(
      invalidRequest(
        `Invalid value for 'alt': ${JSON.stringify(alt)}; ${stream ? "use alt=sse for SSE events, or leave it out for one JSON array" : "generateContent answers JSON (alt=json); stream with streamGenerateContent"}.`,
        "alt",
      ),
    );
  };
}

/** A request's `alt` query parameter. */
function altOf(request: FastifyRequest): unknown {
  return (request.query as Record<string, unknown> | null)?.alt;
}

/** What a generate request's URL says (checked by the hooks): its model, whether it streams, the stream's framing. */
function callOf(request: FastifyRequest, stream: boolean): GeminiCall {
  return { model: request.inboundModel ?? "", stream, framing: altOf(request) === "sse" ? "sse" : "json-array" };
}
