/**
 * An exchange's attempts, as the server's route and the library's
 * in-process transport both run them: the dispatcher (retries, fallbacks,
 * balancing) wired to the {@link Exchange} (its clock, its attempt
 * records, the route it records), and the end of a non-streaming answer.
 */
import type { ProviderCall, ProviderCompletion } from "../providers/types.js";
import { dispatch, type AttemptTarget, type DispatchDeps, type Dispatched } from "../routing/dispatcher.js";
import type { Exchange } from "./exchange.js";
import type { OpenedEventStream, OpenedStream } from "./open-stream.js";
import { okOutcome, type ExchangeOutcome } from "./outcome.js";

/** One exchange's way to its upstream: how each attempt's provider call is built. */
export interface ExchangeAttempts {
  exchange: Exchange;
  /** Aborted when the caller leaves, times out or the server stops: ends the attempts. */
  signal: AbortSignal;
  /** The provider call of one attempt (the body for its route, the signal, the request id). */
  callFor(target: AttemptTarget): ProviderCall;
}

/**
 * Runs the exchange's attempts until one gives the start of an answer;
 * every attempt lands in `exchange.attempts`, and `exchange.route` is the
 * latest attempt's route.
 * @param run makes one attempt with its provider call (resolves with the start of the answer)
 * @throws RelayError as {@link dispatch}: 404 `model_not_found`, the last attempt's error; or the abort reason
 */
export function dispatchExchange<T>(
  deps: DispatchDeps,
  attempts: ExchangeAttempts,
  run: (target: AttemptTarget, call: ProviderCall) => Promise<T>,
): Promise<Dispatched<T>> {
  const { exchange, signal } = attempts;
  return dispatch(deps, {
    model: exchange.body.model,
    signal,
    clock: exchange,
    attempts: exchange.attempts,
    onAttempt: (route) => {
      exchange.route = route;
    },
    run: async (target) => {
      const value = await run(target, attempts.callFor(target));
      exchange.toolConvention = toolConventionOf(value);
      return value;
    },
  });
}

/**
 * The tool convention an attempt's answer carries (`ProviderCompletion.toolConvention`, or that of an opened event
 * stream's first event), or null.
 */
function toolConventionOf(value: unknown): string | null {
  if (value === null || typeof value !== "object") return null;
  if ("rawBody" in value) return (value as ProviderCompletion).toolConvention ?? null;
  if ((value as Partial<OpenedStream>).kind === "events") {
    const first = (value as OpenedEventStream).first;
    return first.done ? null : (first.value.toolConvention ?? null);
  }
  return null;
}

/**
 * Ends a non-streaming exchange whose attempt answered: ends the attempt
 * (as cancelled when the signal was aborted meanwhile) and gives the `ok`
 * outcome with the upstream's body.
 * @throws the abort reason when the signal was aborted (the caller maps it with `failedOutcome`)
 */
export function completedOutcome(answered: Dispatched<ProviderCompletion>, signal: AbortSignal): ExchangeOutcome {
  answered.finish(signal.aborted ? signal.reason : undefined);
  if (signal.aborted) throw signal.reason;
  const { rawBody, completion, usageEstimated } = answered.value;
  return okOutcome({ kind: "completion", body: completion ?? rawBody, usageEstimated });
}
