/**
 * Runs library calls in this process through the server's own building
 * blocks: the Router and its dispatcher (the same retries, fallbacks and
 * balancing), the ProviderRegistry, one Exchange per call and the
 * Recorder (writing in this thread into the SQLite logs.db), so a call is
 * recorded and threaded exactly like a request to the server.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { pino, type Logger } from "pino";
import { asModelGroups } from "../config/schema.js";
import { loadConfig, type LibraryConfigInput, type RelayConfig } from "../config/load.js";
import type { ChatCompletion, ChatCompletionChunk } from "../protocol/chat-completion.js";
import type { ChatCompletionRequest } from "../protocol/chat-request.js";
import { RelayError, toRelayError } from "../protocol/errors.js";
import { ProviderRegistry } from "../providers/registry.js";
import { providerContext } from "../providers/provider-context.js";
import type { ProviderCall, ProviderStreamEvent } from "../providers/types.js";
import { Recorder } from "../recording/recorder.js";
import { SqliteStore } from "../recording/sqlite/sqlite-store.js";
import { dispatch, type AttemptTarget, type Dispatched } from "../routing/dispatcher.js";
import { Router, type Route } from "../routing/router.js";
import { Exchange, type ExchangeOutcome } from "../server/exchange.js";
import { openEventStream, type OpenedEventStream } from "../server/stream-response.js";
import { withProviderDefaults } from "./ollama-defaults.js";
import { TransportFailure, type ChunkHandler, type Transport, type TransportResult } from "./transport.js";

/** The parts built from the config on first use. */
interface Runtime {
  config: RelayConfig;
  router: Router;
  providers: ProviderRegistry;
  recorder: Recorder;
}

/**
 * The effective config of an in-process client.
 * @param config a path to a YAML config, a (partial) RelayConfig, or undefined (`loadConfig()` alone)
 * @throws ConfigError as `loadConfig`
 */
export function resolveLibraryConfig(config: string | LibraryConfigInput | undefined, env: NodeJS.ProcessEnv): RelayConfig {
  if (typeof config === "string") return loadConfig({ configPath: config, env });
  const base = loadConfig({ env, ...(config?.configPath ? { configPath: config.configPath } : {}) });
  if (!config) return base;
  const routing = config.routing ?? base.routing;
  return { ...base, ...config, models: { ...base.models, ...asModelGroups(config.models ?? {}, routing) }, aliases: { ...base.aliases, ...(config.aliases ?? {}) } };
}

/** The in-process transport. Nothing is opened until the first call. */
export class InProcessTransport implements Transport {
  private runtime: Runtime | null = null;
  private closed = false;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly configInput: string | LibraryConfigInput | undefined,
    private readonly env: () => NodeJS.ProcessEnv,
  ) {}

  get defaultModel(): string | null {
    return this.open().config.defaultModel;
  }

  async complete(body: ChatCompletionRequest, signal: AbortSignal): Promise<TransportResult> {
    const { exchange, dispatchFor } = this.begin(body, signal);
    let outcome: ExchangeOutcome;
    try {
      const answered = await dispatchFor((target, call) => target.provider.complete(call));
      answered.finish(signal.aborted ? signal.reason : undefined);
      if (signal.aborted) throw signal.reason;
      const { rawBody, completion, usageEstimated } = answered.value;
      const finishedAt = performance.now();
      outcome = { status: "ok", httpStatus: 200, output: { kind: "completion", body: completion ?? rawBody, usageEstimated }, errorJson: null, error: null, errorClass: null };
      return { completion: completion ?? parseCompletion(rawBody), finishedAt, exchangeId: exchange.id };
    } catch (error) {
      outcome = failed(error, signal, false);
      throw new TransportFailure(signal.aborted ? signal.reason : error, exchange.id);
    } finally {
      this.record(exchange, outcome!);
    }
  }

  async stream(body: ChatCompletionRequest, signal: AbortSignal, onChunk: ChunkHandler): Promise<TransportResult> {
    const { exchange, dispatchFor } = this.begin(body, signal);
    const events: (string | ChatCompletionChunk)[] = [];
    let usageEstimated = false;
    let outcome: ExchangeOutcome | undefined;
    let opened: Dispatched<OpenedEventStream> | null = null;
    try {
      opened = await dispatchFor((target, call) => openEventStream(target.provider, call));
      const { iterator } = opened.value;
      for (let next = opened.value.first; !next.done; next = await exchange.wait(iterator.next())) {
        events.push(next.value.chunk ?? next.value.data);
        if (next.value.usageEstimated) usageEstimated = true;
        const chunk = chunkOf(next.value);
        if (!chunk) continue;
        if (chunk.choices?.some((c) => Boolean(c.delta?.content) || Boolean(c.delta?.tool_calls?.length))) exchange.markFirstToken();
        const pending = onChunk(chunk);
        if (pending) await exchange.wait(pending);
        if (signal.aborted) {
          await iterator.return?.().catch(() => undefined);
          break;
        }
      }
      if (signal.aborted) throw signal.reason;
      opened.finish();
      outcome = { status: "ok", httpStatus: 200, output: { kind: "stream", events, usageEstimated }, errorJson: null, error: null, errorClass: null };
      return { finishedAt: performance.now(), exchangeId: exchange.id };
    } catch (error) {
      if (opened) {
        await opened.value.iterator.return?.().catch(() => undefined);
        opened.finish(signal.aborted ? signal.reason : error);
      }
      outcome = failed(error, signal, opened !== null && events.length > 0, events);
      throw new TransportFailure(signal.aborted ? signal.reason : error, exchange.id);
    } finally {
      this.record(exchange, outcome!);
    }
  }

  settle(): Promise<void> {
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const runtime = this.runtime;
    this.runtime = null;
    if (!runtime) return;
    await this.flushing;
    await runtime.providers.close();
    await runtime.recorder.close();
  }

  /** The config, router, providers and recorder, built on first use. */
  private open(): Runtime {
    if (this.closed) throw new RelayError({ status: 500, message: "This llm-relay client is closed", code: "client_closed", errorClass: "internal" });
    if (this.runtime) return this.runtime;
    const env = this.env();
    const config = resolveLibraryConfig(this.configInput, env);
    const logger = libraryLogger(env);
    const store = SqliteStore.open(config.dbPath);
    const recorder = new Recorder(store, logger, { persist: config.record });
    this.runtime = { config, router: new Router(config), providers: new ProviderRegistry(providerContext(config, env, logger)), recorder };
    return this.runtime;
  }

  /**
   * A new exchange for `body`, and the function that runs its attempts
   * through the dispatcher (retries, fallbacks, balancing — as the server
   * does) inside the caller's try, so that failures are recorded.
   */
  private begin(body: ChatCompletionRequest, signal: AbortSignal) {
    const runtime = this.open();
    const exchange = new Exchange(`lib_${randomUUID().replaceAll("-", "")}`, body);
    const callFor = (target: AttemptTarget): ProviderCall => ({
      body: withProviderDefaults(exchange.upstreamBody(target.route), target.route.deployment),
      signal,
      requestId: exchange.requestId,
    });
    const onAttempt = (route: Route) => {
      exchange.route = route;
    };
    const dispatchFor = <T>(run: (target: AttemptTarget, call: ProviderCall) => Promise<T>): Promise<Dispatched<T>> =>
      dispatch(runtime, { model: body.model, signal, clock: exchange, attempts: exchange.attempts, onAttempt, run: (target) => run(target, callFor(target)) });
    return { exchange, dispatchFor };
  }

  /** Queues the exchange's record and writes it out (the call's answer waits for it through `settle`). */
  private record(exchange: Exchange, outcome: ExchangeOutcome): void {
    const recorder = this.runtime?.recorder;
    if (!recorder) return;
    recorder.enqueue(exchange.toPending(outcome));
    this.flushing = this.flushing.then(() => recorder.flush()).catch(() => undefined);
  }
}

/** How a failed exchange is recorded: `cancelled` when aborted, `truncated` after some output, else `error`. */
function failed(error: unknown, signal: AbortSignal, streamed: boolean, events: (string | ChatCompletionChunk)[] = []): ExchangeOutcome {
  if (signal.aborted) {
    const reason = signal.reason instanceof Error ? signal.reason.message : "cancelled";
    return { status: "cancelled", httpStatus: 499, output: events.length ? { kind: "stream", events } : null, errorJson: null, error: reason, errorClass: null };
  }
  const relayError = toRelayError(error);
  const errorJson = relayError.toBody() as unknown as Record<string, unknown>;
  if (streamed) return { status: "truncated", httpStatus: 200, output: { kind: "stream", events }, errorJson, error: relayError.message, errorClass: relayError.errorClass };
  return { status: "error", httpStatus: relayError.status, output: null, errorJson, error: relayError.message, errorClass: relayError.errorClass, promptTokens: relayError.promptTokens };
}

/** The chunk of an event: the provider's object, or its `data` parsed (null when it is not JSON). */
function chunkOf(event: ProviderStreamEvent): ChatCompletionChunk | null {
  if (event.chunk) return event.chunk;
  try {
    return JSON.parse(event.data) as ChatCompletionChunk;
  } catch {
    return null;
  }
}

function parseCompletion(rawBody: string): ChatCompletion {
  try {
    return JSON.parse(rawBody) as ChatCompletion;
  } catch (error) {
    throw new RelayError({ status: 502, message: `The upstream answered with invalid JSON: ${(error as Error).message}`, code: "upstream_protocol", errorClass: "upstream_protocol" });
  }
}

/** The recorder's log: warnings and errors on stderr (a script's stdout stays its own); `LLM_RELAY_LOG_LEVEL` changes the level. */
function libraryLogger(env: NodeJS.ProcessEnv): Logger {
  const level = env.LLM_RELAY_LOG_LEVEL || "warn";
  return pino({ level, base: { service: "llm-relay" } }, pino.destination({ dest: 2, sync: true }));
}
