/**
 * Runs library calls in this process through the server's own building
 * blocks: the exchange core (src/exchange/: the Router's dispatcher with
 * the same retries, fallbacks and balancing, one Exchange per call, the
 * same outcome mapping), the ProviderRegistry and the Recorder, so a call is recorded and threaded exactly like a request to
 * the server. As in the server, records are assembled, their missing token
 * counts estimated and written into the SQLite logs.db by a worker thread
 * (`recording/record-sinks.ts`): the event loop that streams the calls
 * never stalls on that work (a first gpt-tokenizer load alone takes about
 * 300 ms), so the times a caller measures around its calls stay true.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { pino, type Logger } from "pino";
import { asModelGroups } from "../config/schema.js";
import { loadConfig, type LibraryConfigInput, type RelayConfig } from "../config/load.js";
import type { ChatCompletion, ChatCompletionChunk } from "../protocol/chat-completion.js";
import type { ChatCompletionRequest } from "../protocol/chat-request.js";
import { errors } from "../protocol/error-codes.js";
import { RelayError } from "../protocol/errors.js";
import { ProviderRegistry } from "../providers/registry.js";
import { providerContext } from "../providers/provider-context.js";
import { Recorder } from "../recording/recorder.js";
import type { RecordSink } from "../recording/record-sinks.js";
import { WorkerSink } from "../recording/record-sinks.js";
import type { ExchangeSummary } from "../recording/record-writer.js";
import type { TokenUsage } from "../recording/types.js";
import type { Dispatched } from "../routing/dispatcher.js";
import { Router } from "../routing/router.js";
import { Exchange } from "../exchange/exchange.js";
import { chunkOf, eventHasOutput, openEventStream, type OpenedEventStream } from "../exchange/open-stream.js";
import { failedOutcome, okOutcome, type ExchangeOutcome } from "../exchange/outcome.js";
import { completedOutcome, dispatchExchange, type ExchangeAttempts } from "../exchange/run.js";
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
export function resolveLibraryConfig(
  config: string | LibraryConfigInput | undefined,
  env: NodeJS.ProcessEnv,
): RelayConfig {
  if (typeof config === "string") return loadConfig({ configPath: config, env });
  const base = loadConfig({ env, ...(config?.configPath ? { configPath: config.configPath } : {}) });
  if (!config) return base;
  const routing = config.routing ?? base.routing;
  return {
    ...base,
    ...config,
    models: { ...base.models, ...asModelGroups(config.models ?? {}, routing) },
    aliases: { ...base.aliases, ...(config.aliases ?? {}) },
  };
}

/** The in-process transport. Nothing is opened until the first call (or {@link InProcessTransport.ready}). */
export class InProcessTransport implements Transport {
  private config: RelayConfig | null = null;
  private runtime: Promise<Runtime> | null = null;
  private closed = false;
  private flushing: Promise<void> = Promise.resolve();
  /** Token counts of the exchanges recorded and not yet asked for by `settle`, by exchange id. */
  private readonly recordedUsage = new Map<string, TokenUsage | null>();

  constructor(
    private readonly configInput: string | LibraryConfigInput | undefined,
    private readonly env: () => NodeJS.ProcessEnv,
  ) {}

  get defaultModel(): string | null {
    return this.effectiveConfig().defaultModel;
  }

  async complete(body: ChatCompletionRequest, signal: AbortSignal): Promise<TransportResult> {
    const runtime = await this.open();
    const attempts = this.begin(body, signal);
    const { exchange } = attempts;
    let outcome: ExchangeOutcome | undefined;
    try {
      const answered = await dispatchExchange(runtime, attempts, (target, call) => target.provider.complete(call));
      outcome = completedOutcome(answered, signal);
      const { rawBody, completion } = answered.value;
      return {
        completion: completion ?? parseCompletion(rawBody),
        finishedAt: performance.now(),
        exchangeId: exchange.id,
      };
    } catch (error) {
      outcome = failedOutcome(error, signal, { received: null, statusSent: false }).outcome;
      throw new TransportFailure(signal.aborted ? signal.reason : error, exchange.id);
    } finally {
      this.record(runtime, exchange, outcome!);
    }
  }

  async stream(body: ChatCompletionRequest, signal: AbortSignal, onChunk: ChunkHandler): Promise<TransportResult> {
    const runtime = await this.open();
    const attempts = this.begin(body, signal);
    const { exchange } = attempts;
    const events: (string | ChatCompletionChunk)[] = [];
    let usageEstimated = false;
    let outcome: ExchangeOutcome | undefined;
    let opened: Dispatched<OpenedEventStream> | null = null;
    try {
      opened = await dispatchExchange(runtime, attempts, (target, call) => openEventStream(target.provider, call));
      const { iterator } = opened.value;
      for (let next = opened.value.first; !next.done; next = await exchange.wait(iterator.next())) {
        events.push(next.value.chunk ?? next.value.data);
        if (next.value.usageEstimated) usageEstimated = true;
        if (eventHasOutput(next.value)) exchange.markFirstToken();
        const chunk = chunkOf(next.value);
        if (!chunk) continue;
        const pending = onChunk(chunk);
        if (pending) await exchange.wait(pending);
        if (signal.aborted) {
          await iterator.return?.().catch(() => undefined);
          break;
        }
      }
      if (signal.aborted) throw signal.reason;
      opened.finish();
      outcome = okOutcome({ kind: "stream", events, usageEstimated });
      return { finishedAt: performance.now(), exchangeId: exchange.id };
    } catch (error) {
      if (opened) {
        await opened.value.iterator.return?.().catch(() => undefined);
        opened.finish(signal.aborted ? signal.reason : error);
      }
      // Once the caller has had an event, a failure truncates the answer (no HTTP status in-process: a cancel is 499).
      const received = events.length > 0 ? { kind: "stream" as const, events } : null;
      outcome = failedOutcome(error, signal, { received, statusSent: false }).outcome;
      throw new TransportFailure(signal.aborted ? signal.reason : error, exchange.id);
    } finally {
      this.record(runtime, exchange, outcome!);
    }
  }

  async settle(exchangeId?: string): Promise<TokenUsage | null> {
    await this.flushing;
    if (exchangeId === undefined) return null;
    const usage = this.recordedUsage.get(exchangeId) ?? null;
    this.recordedUsage.delete(exchangeId);
    return usage;
  }

  async ready(): Promise<void> {
    await this.open().catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const opening = this.runtime;
    this.runtime = null;
    const runtime = await opening?.catch(() => null);
    if (!runtime) return;
    await this.flushing;
    await runtime.providers.close();
    await runtime.recorder.close();
  }

  /** The effective config, read on first use. @throws ConfigError; RelayError once closed */
  private effectiveConfig(): RelayConfig {
    if (this.closed) throw clientClosed();
    this.config ??= resolveLibraryConfig(this.configInput, this.env());
    return this.config;
  }

  /**
   * The router, providers and recorder, built on first use; the record worker is started (and
   * has opened logs.db) before the first call is sent, so a database that cannot be opened is
   * that call's error. A failed start is tried again by the next call.
   */
  private open(): Promise<Runtime> {
    if (this.closed) return Promise.reject(clientClosed());
    this.runtime ??= this.start().catch((error: unknown) => {
      this.runtime = null;
      throw error;
    });
    return this.runtime;
  }

  private async start(): Promise<Runtime> {
    const env = this.env();
    const config = this.effectiveConfig();
    const logger = libraryLogger(env);
    const sink: RecordSink = config.record ? await WorkerSink.start(config.dbPath) : NOTHING_WRITTEN;
    const onRecorded = (summary: ExchangeSummary) => {
      this.recordedUsage.set(summary.id, summary.usage);
    };
    const recorder = new Recorder(sink, logger, { persist: config.record, onRecorded });
    return {
      config,
      router: new Router(config),
      providers: new ProviderRegistry(providerContext(config, env, logger)),
      recorder,
    };
  }

  /** A new exchange for `body`, and how its attempts' provider calls are built (the deployment's provider defaults added). */
  private begin(body: ChatCompletionRequest, signal: AbortSignal): ExchangeAttempts {
    const exchange = new Exchange(`lib_${randomUUID().replaceAll("-", "")}`, body);
    return {
      exchange,
      signal,
      callFor: (target) => ({
        body: withProviderDefaults(exchange.upstreamBody(target.route), target.route.deployment),
        signal,
        requestId: exchange.requestId,
      }),
    };
  }

  /** Queues the exchange's record and writes it out (the call's answer waits for it through `settle`). */
  private record(runtime: Runtime, exchange: Exchange, outcome: ExchangeOutcome): void {
    const recorder = runtime.recorder;
    recorder.enqueue(exchange.toPending(outcome));
    this.flushing = this.flushing.then(() => recorder.flush()).catch(() => undefined);
  }
}

/** The sink of a client with recording off: the recorder never writes to it. */
const NOTHING_WRITTEN: RecordSink = {
  write: () => Promise.reject(new Error("recording is off")),
  close: () => Promise.resolve(),
};

function clientClosed(): RelayError {
  return errors.clientClosed("This llm-relay client is closed");
}

function parseCompletion(rawBody: string): ChatCompletion {
  try {
    return JSON.parse(rawBody) as ChatCompletion;
  } catch (error) {
    throw errors.upstreamProtocol(`The upstream answered with invalid JSON: ${(error as Error).message}`);
  }
}

/** The recorder's log: warnings and errors on stderr (a script's stdout stays its own); `LLM_RELAY_LOG_LEVEL` changes the level. */
function libraryLogger(env: NodeJS.ProcessEnv): Logger {
  const level = env.LLM_RELAY_LOG_LEVEL || "warn";
  return pino({ level, base: { service: "llm-relay" } }, pino.destination({ dest: 2, sync: true }));
}
