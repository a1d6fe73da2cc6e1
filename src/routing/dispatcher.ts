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
 */
import { performance } from "node:perf_hooks";
import type { Deployment } from "../config/schema.js";
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

/** What the dispatcher needs of the running proxy. */
export interface DispatchDeps {
  router: Router;
  providers: { get(deployment: Deployment): ChatProvider };
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

/** How the loop goes on after a failed attempt. */
type Next = "retry" | "next-model" | "context-window" | "stop";

/**
 * Runs the attempts of one exchange until one gives an answer.
 * @throws RelayError 404 `model_not_found` when `request.model` matches nothing (no attempt made)
 * @throws the last attempt's RelayError when every attempt failed, or at once for a non-retryable one (4xx)
 * @throws the abort reason when the signal was aborted
 */
export async function dispatch<T>(deps: DispatchDeps, request: DispatchRequest<T>): Promise<Dispatched<T>> {
  const { router } = deps;
  let route: Route | null = router.resolve(request.model);
  const requested = route.group;
  let model = request.model;
  /** Models still to try after the current one; built on the first failure. */
  let queue: string[] | null = null;
  let contextWindowPhase = false;
  /** Deployments this request tried / must not use (allocated on the first failure). */
  let tried: Set<Deployment> | null = null;
  let blocked: Set<Deployment> | null = null;
  let lastError: RelayError | null = null;

  while (route) {
    let previous: Deployment | null = null;
    let retryAfter: number | null = null;
    let next: Next = "next-model";
    for (let n = 0; n <= route.group.numRetries; n++) {
      const picked: Route | null = tried ? router.pick(route, { tried, blocked }) : router.pick(route);
      if (!picked) break;
      if (n > 0) {
        const wait = picked.deployment === previous && retryAfter !== null ? retryAfter : backoffMs(n - 1, router.settings);
        await request.clock.wait(sleep(wait, request.signal));
      }
      const outcome = await attempt(deps, request, model, picked);
      if ("dispatched" in outcome) return outcome.dispatched;
      lastError = outcome.error;
      next = nextStep(outcome.error, contextWindowPhase, requested.contextWindowFallbacks.length > 0);
      if (next !== "retry") break;
      next = "next-model";
      tried ??= new Set();
      tried.add(picked.deployment);
      previous = picked.deployment;
      retryAfter = retryAfterOf(outcome.error, Date.now());
      if (retryAfter !== null && retryAfter > router.settings.retry_max_ms) {
        (blocked ??= new Set()).add(picked.deployment);
        retryAfter = null;
      }
    }
    if (next === "stop") break;
    if (next === "context-window" && !contextWindowPhase) {
      contextWindowPhase = true;
      queue = [...requested.contextWindowFallbacks];
    } else {
      queue ??= [...requested.fallbacks];
    }
    route = null;
    while (!route && queue.length > 0) {
      model = queue.shift()!;
      route = router.resolveFallback(model);
    }
  }
  throw lastError!;
}

/**
 * What follows a failed attempt: another attempt (retryable failure), the
 * context-window fallbacks (once, when the requested model has some), the
 * next model of the current list, or the end (a client error).
 */
function nextStep(error: RelayError, contextWindowPhase: boolean, hasContextFallbacks: boolean): Next {
  switch (classifyFailure(error)) {
    case "retry":
      return "retry";
    case "context_window":
      if (contextWindowPhase) return "next-model";
      return hasContextFallbacks ? "context-window" : "stop";
    default:
      return "stop";
  }
}

/**
 * Makes one attempt on `route` and records it.
 * @returns the dispatched answer, or the attempt's error when another attempt may follow
 * @throws the error when the signal was aborted (no further attempt)
 */
async function attempt<T>(deps: DispatchDeps, request: DispatchRequest<T>, model: string, route: Route): Promise<{ dispatched: Dispatched<T> } | { error: RelayError }> {
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
