/**
 * Builds and runs the HTTP server: Fastify with the OpenAI-compatible
 * routes, the router, the providers and the recorder, and stops it
 * gracefully (no new requests, in-flight exchanges finish or are
 * cancelled after the grace period, the record queue is drained).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { RelayConfig } from "../config/load.js";
import { createLogger } from "../logging/logger.js";
import { invalidRequest, serverShuttingDown } from "../protocol/errors.js";
import { ProviderRegistry } from "../providers/registry.js";
import { providerContext } from "../providers/provider-context.js";
import { Recorder, type RecorderOptions } from "../recording/recorder.js";
import { InlineSink, WorkerSink } from "../recording/record-sinks.js";
import { SqliteStore } from "../recording/sqlite/sqlite-store.js";
import type { RecordStore } from "../recording/types.js";
import { Router } from "../routing/router.js";
import { countTextTokens } from "../tokens/count.js";
import { openTenancyStore, targetOfConfig } from "../tenancy/open-store.js";
import { createRateLimiter } from "../ratelimit/index.js";
import { Admission, isPublicApiRoute } from "./admission.js";
import { UsageBooking } from "./usage-booking.js";
import { registerInternal } from "./routes/internal.js";
import type { ServerContext } from "./context.js";
import {
  answerConnect,
  answerUnmetExpectation,
  clientErrorHandler,
  frameworkErrorHandler,
  installErrorHandlers,
  isUiPath,
} from "./errors.js";
import { registerUi, type RegisterUiOptions } from "./ui/register-ui.js";
import { uiContextOfServer } from "./ui/ui-context.js";
import { closeLiveStreams } from "./ui/live.js";
import { openServerBrowseStore } from "./ui/open-ui-browse.js";
import { DEFAULT_MAX_JSON_DEPTH, jsonNestingExceeds, jsonTooDeep } from "./json-depth.js";
import { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BODY_BYTES_IN_FLIGHT, installBodyLimits } from "./body-limits.js";
import { requestIdOf } from "./request-id.js";
import { checkBind } from "./bind-check.js";
import { InFlight } from "./in-flight.js";
import { registerChatCompletions } from "./routes/chat-completions.js";
import { registerMessages } from "./routes/messages.js";
import { registerResponses } from "./routes/responses.js";
import { registerOllama } from "./routes/ollama.js";
import { registerGemini } from "./routes/gemini.js";
import { withoutKeyParam } from "../protocol/gemini/key-param.js";
import { registerCompletions } from "./routes/completions.js";
import { registerEmbeddings } from "./routes/embeddings.js";
import { registerHealth } from "./routes/health.js";
import { registerModels } from "./routes/models.js";
import { registerMetrics } from "./routes/metrics.js";
import { registerPromptFormats } from "./routes/prompt-formats.js";
import { RelayMetrics } from "../metrics/relay-metrics.js";
import { routableModelNames } from "../metrics/model-label.js";
import { registerCors } from "./cors.js";

/** A running proxy. */
export interface RelayServer {
  app: FastifyInstance;
  ctx: ServerContext;
  /** `http://host:port` it listens on. */
  url: string;
  /** Graceful stop: resolves once every exchange is recorded and the database closed. */
  close(): Promise<void>;
}

/** Optional parts a caller (a test, the library) may supply. */
export interface StartOptions {
  logger?: Logger;
  store?: RecordStore;
  recorder?: RecorderOptions;
  env?: NodeJS.ProcessEnv;
  /** Prefix of the rate limiter's Redis keys (with `redisUrl`; tests use a unique one). */
  rateLimitKeyPrefix?: string;
  /** How often expired `Idempotency-Key` records are deleted, in ms (default {@link IDEMPOTENCY_PURGE_INTERVAL_MS}). */
  idempotencyPurgeIntervalMs?: number;
  /** The clock (ms) the providers' discovered context windows expire by; tests inject one to pass a TTL without waiting. */
  providerClock?: () => number;
  /** How long the record worker's writes wait for another process's lock, in ms (default 5000, `WORKER_BUSY_TIMEOUT_MS`). */
  recordBusyTimeoutMs?: number;
  /** Options of the conversation browser at `/ui` (tests shorten the Live heartbeat). */
  ui?: RegisterUiOptions;
}

/** Default interval of the purge of expired `Idempotency-Key` records, in ms. */
export const IDEMPOTENCY_PURGE_INTERVAL_MS = 10 * 60_000;

/**
 * How long the main thread's connection (schema at start) may wait for another process's
 * lock; better-sqlite3 is synchronous, so a long wait would hold up every request. Writes happen in
 * the recorder's worker thread, which may wait longer.
 */
const MAIN_BUSY_TIMEOUT_MS = 250;

/**
 * Starts the proxy on `config.host:config.port` (port 0 picks a free one).
 * @throws when the port is taken or the database cannot be opened;
 *   UnsafeBindError (`bind-check.ts`) on a non-loopback host where no request needs a key, without a master key or `allowUnauthenticated`
 */
export async function startRelayServer(config: RelayConfig, options: StartOptions = {}): Promise<RelayServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  // SQLite: this connection creates the schema; the writes happen in the recorder's worker thread (`/health` reads the recorder's state, never the file).
  // PostgreSQL (`database_url`): one pool, written from this thread (the driver is asynchronous); no SQLite file is made.
  // The driver and the PostgreSQL store are loaded only then (about 5 MB a SQLite proxy does not need).
  const pg =
    !options.store && config.databaseUrl
      ? await (await import("../recording/postgres/pg-store.js")).PgStore.open(config.databaseUrl)
      : null;
  const store = options.store ?? pg ?? SqliteStore.open(config.dbPath, { busyTimeoutMs: MAIN_BUSY_TIMEOUT_MS });
  // With recording off the recorder never calls its sink: no worker thread (about 26 MB) for nothing.
  const sink =
    options.store || pg || !config.record
      ? new InlineSink(store)
      : await WorkerSink.start(config.dbPath, { busyTimeoutMs: options.recordBusyTimeoutMs });
  const inFlight = new InFlight();
  let recorder: Recorder | null = null;
  const router = new Router(config);
  const metrics = new RelayMetrics(
    { inFlight: () => inFlight.size, recorderQueued: () => recorder?.queued ?? 0 },
    { modelNames: routableModelNames(router, Object.keys(config.models)) },
  );
  let booking: UsageBooking | null = null;
  recorder = new Recorder(sink, logger, {
    ...options.recorder,
    persist: config.record,
    metrics,
    // The usage ledger and rate-limit settlements, once tokens and cost are known (off the request path).
    onRecorded: (summary) => booking?.onRecorded(summary),
    onEmbeddingRecorded: (record) => booking?.onEmbeddingRecorded(record),
  });
  // Keys, ledger and idempotency records: on the records' database (its own connection or pool).
  const tenancy = await openTenancyStore(targetOfConfig(config)).catch(async (error: unknown) => {
    await recorder?.close();
    if (!options.store) await store.close();
    throw error;
  });
  // The conversation browser's read model (`/ui`): SQLite, a read-only connection beside the writer; PostgreSQL, its own
  // small pool. Loaded only here (a SQLite proxy loads no PostgreSQL code for it).
  const browse =
    config.ui === false
      ? null
      : await openServerBrowseStore(config, !options.store && !pg).catch(async (error: unknown) => {
          await recorder?.close();
          if (!options.store) await store.close();
          await tenancy.close();
          throw error;
        });
  const limiter = createRateLimiter({
    redisUrl: config.redisUrl ?? null,
    ...(options.rateLimitKeyPrefix ? { keyPrefix: options.rateLimitKeyPrefix } : {}),
  });
  const ctx: ServerContext = {
    config,
    router,
    providers: new ProviderRegistry(providerContext(config, options.env ?? process.env, logger, options.providerClock)),
    store,
    recorder,
    logger,
    inFlight,
    metrics,
    tenancy,
    limiter,
    admission: new Admission(tenancy, limiter, {
      auth: config.auth ?? "auto",
      logger,
      router,
      allowUnpriced: config.allowUnpriced ?? false,
      ...(config.tenantBudgets ? { tenantBudgets: config.tenantBudgets } : {}),
    }),
    booking: (booking = new UsageBooking(tenancy, limiter, logger)),
    startedAt: Date.now(),
    browse,
  };
  warmUpEcho(ctx);
  const app = buildApp(ctx, options.ui);
  try {
    // A non-loopback address with nobody needing a key: refuse (UnsafeBindError) unless allowed, then warn.
    await checkBind({
      host: config.host,
      allowUnauthenticated: config.allowUnauthenticated ?? false,
      hasMasterKey: config.masterKey !== undefined,
      keysRequired: () => ctx.admission.keysRequired(),
      logger,
    });
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await browse?.close();
    await ctx.recorder.close();
    if (!options.store) await store.close();
    await ctx.booking.drain();
    await tenancy.close();
    await limiter.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  logger.info(
    { url, db: pg ? "postgresql" : config.dbPath, config: config.configPath, defaultModel: config.defaultModel },
    "llm-relay listening",
  );

  // Expired Idempotency-Key records are otherwise only replaced when their key comes again.
  const purge = setInterval(() => {
    ctx.tenancy.idempotency.purgeExpired().then(
      (purged) => {
        if (purged > 0) logger.debug({ purged }, "expired idempotency records deleted");
      },
      (error: unknown) => logger.warn({ err: error }, "cannot delete expired idempotency records"),
    );
  }, options.idempotencyPurgeIntervalMs ?? IDEMPOTENCY_PURGE_INTERVAL_MS);
  purge.unref();

  let closing: Promise<void> | null = null;
  const close = () => {
    clearInterval(purge);
    return (closing ??= shutdown(app, ctx));
  };
  return { app, ctx, url, close };
}

/** The Fastify app with every route, hook and handler (and the conversation browser at `/ui` when `ctx.browse` is set). */
export function buildApp(ctx: ServerContext, uiOptions: RegisterUiOptions = {}): FastifyInstance {
  const maxJsonDepth = ctx.config.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
  // Typed as Fastify's logger interface, so the app (and every route's type) is FastifyInstance's default.
  const logger: FastifyBaseLogger = ctx.logger;
  const app = Fastify({
    loggerInstance: logger,
    // One line per exchange is logged by the chat handler itself.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: ctx.config.bodyLimitBytes,
    genReqId: (request) => requestIdOf(request.headers),
    requestIdHeader: false,
    forceCloseConnections: false,
    // Requests during a graceful stop get our 503 (onRequest below), not Fastify's own body.
    return503OnClosing: false,
    // An HTTP/1.1 request without Host is refused by the onRequest hook below, in OpenAI's shape (Node's own 400 has no body).
    http: { requireHostHeader: false },
    // Errors before routing (a malformed URL) and on the socket (unparsable HTTP, header overflow, timeouts) in our shapes too.
    frameworkErrors: frameworkErrorHandler(ctx.config.bodyLimitBytes),
    clientErrorHandler: clientErrorHandler(ctx.logger),
    // SDKs that add their own prefix: Groq's posts to `{base_url}/openai/v1/chat/completions`.
    rewriteUrl: (request) => aliasedUrl(request.url ?? "/"),
  });
  // Node answers an Expect other than 100-continue itself (an empty 417) unless someone listens.
  app.server.on("checkExpectation", answerUnmetExpectation);
  // …and closes a CONNECT request's socket without a word unless someone listens.
  app.server.on("connect", answerConnect);
  // JSON bodies are parsed by Fastify's own parser (prototype-poisoning checks included) and their text is
  // kept: a chat request that needs no change goes upstream as these bytes, not serialised again.
  // Any JSON body nested deeper than max_json_depth is refused first, by a linear scan of its text.
  const parseJson = app.getDefaultJsonParser(
    app.initialConfig.onProtoPoisoning ?? "error",
    app.initialConfig.onConstructorPoisoning ?? "error",
  );
  app.decorateRequest("rawBody", null);
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const text = body as string;
    if (jsonNestingExceeds(text, maxJsonDepth)) {
      done(jsonTooDeep(maxJsonDepth), undefined);
      return;
    }
    request.rawBody = text;
    // Fastify's default JSON parser is synchronous and reports its result (or error) through `done`.
    void parseJson(request, text, done);
  });
  // Clients that forget the JSON content type (curl -d, text/plain) still get parsed.
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => {
    const text = body as string;
    if (jsonNestingExceeds(text, maxJsonDepth)) {
      done(jsonTooDeep(maxJsonDepth), undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(
        invalidRequest(
          `We could not parse the JSON body of your request: ${(error as Error).message}`,
          null,
          "invalid_json",
        ),
        undefined,
      );
    }
  });
  let closing = false;
  app.addHook("preClose", (done) => {
    closing = true;
    done();
  });
  app.addHook("onRequest", async (request, reply) => {
    reply.raw.setHeader("x-request-id", request.id);
    if (closing) throw serverShuttingDown();
    if (request.raw.httpVersion === "1.1" && request.headers.host === undefined)
      throw invalidRequest("An HTTP/1.1 request needs a Host header.", null, "missing_host");
  });
  // CORS after the hook above (a preflight's answer carries x-request-id too), before admission: preflights need no key.
  registerCors(app, ctx.config.corsOrigins ?? []);
  installBodyLimits(app, {
    timeoutMs: ctx.config.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
    maxBytesInFlight: ctx.config.maxBodyBytesInFlight ?? DEFAULT_MAX_BODY_BYTES_IN_FLIGHT,
  });
  // One log line per request; the chat route logs its own, richer line and sets relayLogged.
  app.decorateRequest("relayLogged", false);
  app.decorateRequest("tenant", null);
  app.decorateRequest("billing", null);
  app.decorateRequest("inboundModel", null);
  // Keys, budgets and rate limits before any `/v1` handler (the body is parsed by then); `/internal` routes check their own.
  // Before that, backpressure: while the recorder is behind by its maxQueued exchanges, new recorded
  // requests wait for it to catch up (records are never dropped; memory stays bounded).
  app.addHook("preHandler", async (request, reply) => {
    if (!isPublicApiRoute(request.routeOptions.url)) return;
    if (request.method === "POST") await ctx.recorder.whenRoom();
    await ctx.admission.preHandler(request, reply);
  });
  app.addHook("onResponse", async (request, reply) => {
    // The browser's pages and API are not proxied requests: not counted in the metrics.
    if (!isUiPath(request.routeOptions.url ?? request.url))
      ctx.metrics.countRequest(request.routeOptions.url ?? "unknown", reply.statusCode);
    await ctx.admission.releaseUnused(request);
    if (request.relayLogged) return;
    ctx.logger.info(
      {
        id: request.id,
        method: request.method,
        url: withoutKeyParam(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request",
    );
  });
  installErrorHandlers(app, ctx.config.bodyLimitBytes);
  registerChatCompletions(app, ctx);
  registerMessages(app, ctx);
  registerResponses(app, ctx);
  registerOllama(app, ctx);
  registerGemini(app, ctx);
  registerCompletions(app, ctx);
  registerEmbeddings(app, ctx);
  registerModels(app, ctx);
  registerHealth(app, ctx);
  registerMetrics(app, ctx);
  registerPromptFormats(app);
  registerInternal(app, ctx);
  if (ctx.browse) registerUi(app, uiContextOfServer(ctx, ctx.browse), uiOptions);
  return app;
}

/** The prefix Groq's SDK adds to every path; `/openai/v1/*` serves the routes of `/v1/*`. */
const OPENAI_ALIAS_PREFIX = "/openai/v1/";

/** A request target with SDK path aliases resolved: `/openai/v1/x` → `/v1/x`; others unchanged. */
export function aliasedUrl(url: string): string {
  return url.startsWith(OPENAI_ALIAS_PREFIX) ? url.slice("/openai".length) : url;
}

/**
 * When unmatched names go to `echo` (the out-of-the-box setup), loads the
 * tokenizer echo counts usage with now, so the first request does not pay
 * for it (about 0.3 s). Other setups load it only if they ever need it.
 */
function warmUpEcho(ctx: ServerContext): void {
  if (!ctx.config.defaultModel) return;
  if (ctx.router.resolve(ctx.config.defaultModel).deployment.provider === "echo") countTextTokens("warm up");
}

async function shutdown(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  ctx.logger.info({ inFlight: ctx.inFlight.size, queued: ctx.recorder.queued }, "llm-relay stopping");
  // The Live page's streams never end on their own: end them first, while their sockets are still open.
  await closeLiveStreams(app);
  const stopped = app.close();
  await ctx.inFlight.drain(ctx.config.shutdownGraceMs);
  app.server.closeAllConnections();
  await stopped;
  // The browser's read-only connection first: the last connection to a SQLite file removes its WAL, and a read-only one cannot.
  await ctx.browse?.close();
  await ctx.providers.close();
  await ctx.recorder.close();
  await ctx.booking.drain();
  await ctx.store.close();
  await ctx.tenancy.close();
  await ctx.limiter.close();
  ctx.logger.info({ written: ctx.recorder.writtenRecords, failed: ctx.recorder.failedWrites }, "llm-relay stopped");
}
