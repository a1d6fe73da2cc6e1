/**
 * The attempt loop of one exchange, shared by the server and the
 * library's in-process transport: the requested model with its retries
 * (each may pick another of its deployments), then each of its
 * `fallbacks` in order with their own retries — or, on 400
 * `context_length_exceeded`, its `context_window_fallbacks`.
 *
 * An attempt succeeds once it has the start of an answer (a completion,
 * or a stream's first event) and nothing was sent to the client yet; a
 * failure after that is the caller's to end (see {@link Dispatched.finish}).
 * Waits between retries: backoff with full jitter, or the upstream's
 * `Retry-After` when it retries the same deployment and is at most
 * `retry_max_ms` (a longer one leaves that deployment out for this
 * request: the next deployment or fallback is tried at once). An abort
 * (client gone, server stopping) ends the loop: the attempt in progress is
 * cancelled, no other is made.
 *
 * Written as an explicit state machine ({@link DispatchState}, one
 * transition per {@link step}); the waits' clock is injectable
 * ({@link DispatchTiming}) so that unit tests run it without real sleeps.
 */
import { performance } from "node:perf_hooks";
import type { Deployment, ModelGroup } from "../config/schema.js";
import { toRelayError, type RelayError } from "../protocol/errors.js";
import type { ChatProvider } from "../providers/types.js";
import type { AttemptRecord } from "../recording/types.js";
import { attemptStatus, backoffMs, classifyFailure, retryAfterOf, sleep, upstreamHttpStatus } from "./retry-policy.js";
import { deploymentLabel, type Route, type Router } from "./router.js";

/** One attempt's destination. */
export interface AttemptTarget {
  /** The model name tried: the one the client asked for, or a fallback. */
  model: string;
  /** The route, with the deployment picked for this attempt. */
  route: Route;
  /** The provider serving `route.deployment`. */
  provider: ChatProvider;
}

/** The exchange's clock: time spent waiting (on the upstream, or between retries) is not the proxy's overhead. */
export interface DispatchClock {
  /** Awaits `promise`, counting the time as waiting. */
  wait<T>(promise: Promise<T>): Promise<T>;
  /** ms since the exchange began. */
  elapsedMs(): number;
}

/**
 * The clock of the waits between attempts, injectable so that tests run
 * the machine without real sleeps.
 */
export interface DispatchTiming {
  /** Resolves after `ms`, or rejects with the signal's reason when it is aborted (default: retry-policy's `sleep`). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** ms since the epoch, to read a `Retry-After` HTTP-date (default: `Date.now`). */
  now(): number;
  /** Uniform numbers in [0, 1) for the backoff's jitter (default: `Math.random`). */
  random(): number;
}

/** What the dispatcher needs of the running proxy. */
export interface DispatchDeps {
  router: Router;
  providers: { get(deployment: Deployment): ChatProvider };
  /** The waits' clock; real timers when absent (each member defaults on its own). */
  timing?: Partial<DispatchTiming>;
}

/** One exchange to dispatch. */
export interface DispatchRequest<T> {
  /** The model name the client asked for. */
  model: string;
  /** Aborted when the client leaves or the server stops: ends the loop. */
  signal: AbortSignal;
  clock: DispatchClock;
  /** Every attempt is appended here as it starts, and completed as it ends. */
  attempts: AttemptRecord[];
  /** Called with each attempt's route before it is made (the exchange records the last one). */
  onAttempt(route: Route): void;
  /**
   * Makes one attempt. Resolves with the start of the answer (nothing sent
   * to the client yet); rejects with a RelayError when it failed.
   */
  run(target: AttemptTarget): Promise<T>;
}

/** An attempt that gave the start of an answer. */
export interface Dispatched<T> {
  /** What `run` resolved with. */
  value: T;
  target: AttemptTarget;
  /**
   * Ends the answering attempt, once the answer has ended: with no argument
   * when it completed, else with the error that broke it (a stream that
   * failed after its first event) or the abort reason. Completes its
   * attempt record and the deployment's health. Idempotent.
   */
  finish(error?: unknown): void;
}

/**
 * The dispatcher's states. Each exchange starts in `try-deployment` on the
 * requested model and moves by {@link step} until `done` or `failed`:
 *
 * - `try-deployment`: pick one of the model's deployments (none left:
 *   `next-fallback`); before a retry, `wait-before-retry` first; then make
 *   the attempt: an answer is `done`; a retryable failure is another
 *   `try-deployment` (while the model has retries left, else
 *   `next-fallback`); 400 `context_length_exceeded` is
 *   `context-window-fallback`; any other failure is `failed`.
 * - `wait-before-retry`: the backoff, or the upstream's `Retry-After` when
 *   the same deployment is tried again; then `try-deployment` on it.
 * - `next-fallback`: the next resolvable model of the current list (the
 *   requested model's `fallbacks`, or its `context_window_fallbacks` once
 *   they began) in `try-deployment`; none left: `failed` with the last error.
 * - `context-window-fallback`: switches the list to the requested model's
 *   `context_window_fallbacks` (once; again in that phase, the next one
 *   is tried), or `failed` when it has none.
 *
 * An abort ends the machine at once (the pending wait or attempt rejects).
 */
export type DispatchState<T> =
  | {
      kind: "try-deployment";
      model: string;
      route: Route;
      /** 0 for the model's first attempt. */
      retry: number;
      /** The previous attempt's `Retry-After` wait (ms), for the same deployment; null without one. */
      retryAfterMs: number | null;
      /** The deployment of the previous attempt on this model, or null. */
      previous: Deployment | null;
      /** The deployment already picked (after a wait), or null to pick one now. */
      picked: Route | null;
      /** The latest attempt's error (this model's or the previous one's), null before the first attempt. */
      lastError: RelayError | null;
    }
  | {
      kind: "wait-before-retry";
      model: string;
      route: Route;
      retry: number;
      picked: Route;
      waitMs: number;
      lastError: RelayError;
    }
  | { kind: "next-fallback"; error: RelayError }
  | { kind: "context-window-fallback"; error: RelayError }
  | { kind: "done"; dispatched: Dispatched<T> }
  | { kind: "failed"; error: RelayError };

/** What carries over from one model to the next within one exchange (the machine's memory). */
interface Progress {
  /** The requested model's group (its fallback lists). */
  readonly requested: ModelGroup;
  /** Models still to try after the current one; null until the first fallback. */
  queue: string[] | null;
  /** Whether the `context_window_fallbacks` list is the one in use. */
  contextWindowPhase: boolean;
  /** Deployments this request tried already (the balancer prefers others). */
  readonly tried: Set<Deployment>;
  /** Deployments whose `Retry-After` exceeded `retry_max_ms`: not used again by this request. */
  readonly blocked: Set<Deployment>;
}

/** The running machine: the deps and request, with the waits' clock. */
interface Machine<T> {
  deps: DispatchDeps;
  request: DispatchRequest<T>;
  timing: DispatchTiming;
  progress: Progress;
}

/**
 * Runs the attempts of one exchange until one gives an answer (see
 * {@link DispatchState} for the states and their transitions).
 * @param onTransition optional; sees each state entered (tests, tracing)
 * @throws RelayError 404 `model_not_found` when `request.model` matches nothing (no attempt made)
 * @throws the last attempt's RelayError when every attempt failed, or at once for a non-retryable one (4xx)
 * @throws the abort reason when the signal was aborted
 */
export async function dispatch<T>(
  deps: DispatchDeps,
  request: DispatchRequest<T>,
  onTransition?: (state: DispatchState<T>) => void,
): Promise<Dispatched<T>> {
  const route = deps.router.resolve(request.model);
  const timing: DispatchTiming = {
    sleep: deps.timing?.sleep ?? sleep,
    now: deps.timing?.now ?? Date.now,
    random: deps.timing?.random ?? Math.random,
  };
  const progress: Progress = {
    requested: route.group,
    queue: null,
    contextWindowPhase: false,
    tried: new Set(),
    blocked: new Set(),
  };
  const machine: Machine<T> = { deps, request, timing, progress };
  let state: DispatchState<T> = {
    kind: "try-deployment",
    model: request.model,
    route,
    retry: 0,
    retryAfterMs: null,
    previous: null,
    picked: null,
    lastError: null,
  };
  for (;;) {
    onTransition?.(state);
    if (state.kind === "done") return state.dispatched;
    if (state.kind === "failed") throw state.error;
    state = await step(machine, state);
  }
}

/** One transition of the machine (see {@link DispatchState}). */
async function step<T>(
  machine: Machine<T>,
  state: Exclude<DispatchState<T>, { kind: "done" | "failed" }>,
): Promise<DispatchState<T>> {
  const { deps, request, timing, progress } = machine;
  const { router } = deps;
  switch (state.kind) {
    case "try-deployment": {
      const picked =
        state.picked ??
        (progress.tried.size > 0
          ? router.pick(state.route, { tried: progress.tried, blocked: progress.blocked })
          : router.pick(state.route));
      // Every deployment of the model is left out (a Retry-After too long): only after a failure, so lastError is set.
      if (!picked)
        return {
          kind: "next-fallback",
          error: state.lastError ?? toRelayError(new Error(`no deployment of '${state.model}' left to try`)),
        };
      if (state.retry > 0 && state.picked === null && state.lastError !== null) {
        const waitMs =
          picked.deployment === state.previous && state.retryAfterMs !== null
            ? state.retryAfterMs
            : backoffMs(state.retry - 1, router.settings, () => timing.random());
        return {
          kind: "wait-before-retry",
          model: state.model,
          route: state.route,
          retry: state.retry,
          picked,
          waitMs,
          lastError: state.lastError,
        };
      }
      const outcome = await attempt(deps, request, state.model, picked);
      if ("dispatched" in outcome) return { kind: "done", dispatched: outcome.dispatched };
      const error = outcome.error;
      switch (classifyFailure(error)) {
        case "context_window":
          return progress.contextWindowPhase
            ? { kind: "next-fallback", error }
            : { kind: "context-window-fallback", error };
        case "final":
          return { kind: "failed", error };
        case "retry":
          break;
      }
      progress.tried.add(picked.deployment);
      let retryAfterMs = retryAfterOf(error, timing.now());
      if (retryAfterMs !== null && retryAfterMs > router.settings.retry_max_ms) {
        progress.blocked.add(picked.deployment);
        retryAfterMs = null;
      }
      if (state.retry >= state.route.group.numRetries) return { kind: "next-fallback", error };
      return {
        kind: "try-deployment",
        model: state.model,
        route: state.route,
        retry: state.retry + 1,
        retryAfterMs,
        previous: picked.deployment,
        picked: null,
        lastError: error,
      };
    }
    case "wait-before-retry":
      await request.clock.wait(timing.sleep(state.waitMs, request.signal));
      return {
        kind: "try-deployment",
        model: state.model,
        route: state.route,
        retry: state.retry,
        retryAfterMs: null,
        previous: null,
        picked: state.picked,
        lastError: state.lastError,
      };
    case "context-window-fallback":
      if (progress.requested.contextWindowFallbacks.length === 0) return { kind: "failed", error: state.error };
      progress.contextWindowPhase = true;
      progress.queue = [...progress.requested.contextWindowFallbacks];
      return { kind: "next-fallback", error: state.error };
    case "next-fallback": {
      progress.queue ??= [...progress.requested.fallbacks];
      for (let model = progress.queue.shift(); model !== undefined; model = progress.queue.shift()) {
        const route = router.resolveFallback(model);
        if (route)
          return {
            kind: "try-deployment",
            model,
            route,
            retry: 0,
            retryAfterMs: null,
            previous: null,
            picked: null,
            lastError: state.error,
          };
      }
      return { kind: "failed", error: state.error };
    }
  }
}

/**
 * Makes one attempt on `route` and records it.
 * @returns the dispatched answer, or the attempt's error when another attempt may follow
 * @throws the error when the signal was aborted (no further attempt)
 */
async function attempt<T>(
  deps: DispatchDeps,
  request: DispatchRequest<T>,
  model: string,
  route: Route,
): Promise<{ dispatched: Dispatched<T> } | { error: RelayError }> {
  const { health } = deps.router;
  const deployment = route.deployment;
  const record: AttemptRecord = {
    model,
    deployment: deploymentLabel(route),
    provider: deployment.provider,
    upstreamModel: route.upstreamModel,
    status: "pending",
    httpStatus: null,
    startedMs: round(request.clock.elapsedMs()),
    durationMs: 0,
    error: null,
  };
  request.attempts.push(record);
  request.onAttempt(route);
  const started = performance.now();
  health.begin(deployment);
  let target: AttemptTarget;
  let value: T;
  try {
    target = { model, route, provider: deps.providers.get(deployment) };
    value = await request.clock.wait(request.run(target));
  } catch (thrown) {
    health.end(deployment);
    const elapsed = performance.now() - started;
    record.durationMs = round(elapsed);
    if (request.signal.aborted) {
      record.status = "cancelled";
      record.error = reasonText(request.signal.reason);
      throw thrown;
    }
    const error = toRelayError(thrown);
    record.status = attemptStatus(error);
    record.httpStatus = upstreamHttpStatus(error);
    record.error = error.message;
    if (classifyFailure(error) === "retry") {
      health.recordFailure(deployment, performance.now());
      if (record.status === "timeout") health.observeTtft(deployment, elapsed);
    }
    return { error };
  }
  health.observeTtft(deployment, performance.now() - started);
  record.status = "ok";
  record.httpStatus = 200;
  let finished = false;
  const finish = (error?: unknown) => {
    if (finished) return;
    finished = true;
    health.end(deployment);
    record.durationMs = round(performance.now() - started);
    if (error === undefined) return;
    if (request.signal.aborted) {
      record.status = "cancelled";
      record.error = reasonText(request.signal.reason);
      return;
    }
    const relayError = toRelayError(error);
    record.status = attemptStatus(relayError);
    record.error = relayError.message;
    health.recordFailure(deployment, performance.now());
  };
  return { dispatched: { value, target, finish } };
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : "cancelled";
}

/** ms to 0.1 ms. */
function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
