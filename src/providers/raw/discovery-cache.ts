/**
 * What a provider learns from its backend about a model (the context window:
 * llama-server `/props` `n_ctx`, KoboldCpp `/api/extra/true_max_context_length`,
 * Ollama `/api/show`, vLLM `max_model_len`; the chat template) follows the
 * backend: a server restarted with another `-c` or model must not be checked
 * against the old window for the life of the proxy. Answers are kept for a
 * TTL (60 s by default, `context_window_ttl_ms` per deployment), dropped at
 * once after a connection failure or an upstream context error (see
 * {@link invalidatesDiscovery}), and a failed look-up is never kept.
 */
import { RelayError } from "../../protocol/errors.js";
import type { ChatProvider } from "../types.js";

/** How long a discovered fact is trusted by default, in ms. */
export const DISCOVERY_TTL_MS = 60_000;

/** A clock in ms (monotonic where it matters: only differences are used). Tests inject their own. */
export type Clock = () => number;

/** The default clock: `performance.now()`, in ms. */
export const monotonicClock: Clock = () => performance.now();

interface Entry<V> {
  value: Promise<V>;
  /** When the look-up started, by the cache's clock (ms). */
  at: number;
}

/**
 * Look-ups by key, each kept for `ttlMs` from when it started. Concurrent
 * callers share one look-up. A look-up that rejects, or resolves to a value
 * `keep` refuses (e.g. "the server did not say"), is forgotten at once, so
 * the next call asks again.
 */
export class DiscoveryCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();

  /**
   * @param ttlMs how long an answer is used, in ms
   * @param now the clock (ms)
   */
  constructor(
    private readonly ttlMs: number = DISCOVERY_TTL_MS,
    private readonly now: Clock = monotonicClock,
  ) {}

  /**
   * The kept answer for `key`, or a new look-up when there is none or it is older than the TTL.
   * @param load the look-up; its rejection is passed on to the callers sharing it
   * @param keep whether an answer may be kept (default: every answer)
   */
  get(key: K, load: () => Promise<V>, keep: (value: V) => boolean = () => true): Promise<V> {
    const kept = this.entries.get(key);
    if (kept && this.now() - kept.at < this.ttlMs) return kept.value;
    const entry: Entry<V> = { at: this.now(), value: load() };
    this.entries.set(key, entry);
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    entry.value.then((value) => {
      if (!keep(value)) forget();
    }, forget);
    return entry.value;
  }

  /** Forgets the answer for `key` (every key when none is given): the next call asks the backend again. */
  invalidate(key?: K): void {
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }
}

/**
 * Whether a call's failure means the backend may have changed under the
 * proxy, so what was discovered about it must be asked again: the server
 * could not be reached (restarting), or it refused a prompt for its context
 * window itself (its window is smaller than the one the proxy checked against).
 * The proxy's own refusal (class `invalid_request`) does not count.
 */
export function invalidatesDiscovery(error: unknown): boolean {
  if (!(error instanceof RelayError)) return false;
  if (error.errorClass === "upstream_unreachable") return true;
  return error.code === "context_length_exceeded" && error.errorClass === "upstream_http";
}

/**
 * `provider` with `forget` called whenever one of its calls fails in a way
 * that {@link invalidatesDiscovery} (a connection failure, the backend's own
 * context error): for providers whose discovered facts live outside the
 * raw-completion engine (vLLM's `max_model_len`, Ollama's `/api/show`).
 * Streams are watched up to their end; everything else passes unchanged.
 * @param forget drops what was discovered (e.g. `VllmContext.invalidate`)
 */
export function forgetOnFailure(provider: ChatProvider, forget: () => void): ChatProvider {
  const note = (error: unknown): never => {
    if (invalidatesDiscovery(error)) forget();
    throw error;
  };
  async function* watched<T>(events: AsyncIterable<T>): AsyncGenerator<T> {
    try {
      yield* events;
    } catch (error) {
      note(error);
    }
  }
  const wrapped: ChatProvider = {
    kind: provider.kind,
    complete: (call) => provider.complete(call).catch(note),
    stream: (call) => watched(provider.stream(call)),
    close: () => provider.close?.() ?? Promise.resolve(),
  };
  if (provider.streamSse) {
    const streamSse = provider.streamSse.bind(provider);
    wrapped.streamSse = (call) => watched(streamSse(call));
  }
  if (provider.embed) wrapped.embed = provider.embed.bind(provider);
  // Native (Messages/Responses) calls carry the client's bytes: the provider's own window bookkeeping is not involved.
  if (provider.native) wrapped.native = provider.native.bind(provider);
  return wrapped;
}
