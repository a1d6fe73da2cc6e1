/**
 * What the router knows about each deployment while the proxy runs: its
 * requests in flight (for `least-busy`), a moving average of its time to
 * first token (for `latency-based`) and its recent failures, which put it
 * in cooldown once `allowed_fails` of them fall within `fail_window_ms`.
 * All times are `performance.now()` ms (monotonic), passed in by the caller.
 */
import type { Deployment, RoutingSettings } from "../config/schema.js";

/** Weight of the newest sample in the TTFT moving average. */
export const TTFT_EWMA_ALPHA = 0.3;

/** The state of one deployment. */
interface HealthState {
  inFlight: number;
  /** Exponentially weighted moving average of the time to first token, in ms; null until a sample arrived. */
  ttftEwmaMs: number | null;
  /** Times of the failures within the current window, oldest first. */
  failures: number[];
  /** End of the current cooldown, or 0 when there is none. */
  coolUntil: number;
}

/** Per-deployment health, keyed by the deployment object of the config. */
export class DeploymentHealth {
  private readonly states = new Map<Deployment, HealthState>();

  constructor(private readonly settings: Pick<RoutingSettings, "allowed_fails" | "fail_window_ms" | "cooldown_ms">) {}

  /** Counts a request starting on `deployment` (call {@link end} once it has ended). */
  begin(deployment: Deployment): void {
    this.state(deployment).inFlight += 1;
  }

  /** Counts a request on `deployment` as ended. */
  end(deployment: Deployment): void {
    const state = this.states.get(deployment);
    if (state && state.inFlight > 0) state.inFlight -= 1;
  }

  /** Requests in flight on `deployment`. */
  inFlight(deployment: Deployment): number {
    return this.states.get(deployment)?.inFlight ?? 0;
  }

  /** Adds a time-to-first-token sample (ms) to the deployment's moving average. */
  observeTtft(deployment: Deployment, ms: number): void {
    const state = this.state(deployment);
    state.ttftEwmaMs = state.ttftEwmaMs === null ? ms : state.ttftEwmaMs * (1 - TTFT_EWMA_ALPHA) + ms * TTFT_EWMA_ALPHA;
  }

  /** The moving average of the deployment's time to first token, in ms, or null when it has none yet (untried). */
  ttftMs(deployment: Deployment): number | null {
    return this.states.get(deployment)?.ttftEwmaMs ?? null;
  }

  /**
   * Counts a failure at `now`; the `allowed_fails`-th within
   * `fail_window_ms` starts a cooldown of `cooldown_ms` (and clears the count).
   * @returns true when this failure started a cooldown
   */
  recordFailure(deployment: Deployment, now: number): boolean {
    const state = this.state(deployment);
    const windowStart = now - this.settings.fail_window_ms;
    let expired = 0;
    while (expired < state.failures.length && state.failures[expired]! <= windowStart) expired++;
    if (expired > 0) state.failures.splice(0, expired);
    state.failures.push(now);
    if (state.failures.length < this.settings.allowed_fails || this.settings.cooldown_ms === 0) return false;
    state.failures.length = 0;
    state.coolUntil = now + this.settings.cooldown_ms;
    return true;
  }

  /** Whether `deployment` is cooling down at `now`. */
  isCooling(deployment: Deployment, now: number): boolean {
    const state = this.states.get(deployment);
    return state !== undefined && state.coolUntil > now;
  }

  /** When the deployment's cooldown ends (0 when it has none). */
  cooldownEnd(deployment: Deployment): number {
    return this.states.get(deployment)?.coolUntil ?? 0;
  }

  private state(deployment: Deployment): HealthState {
    let state = this.states.get(deployment);
    if (!state) {
      state = { inFlight: 0, ttftEwmaMs: null, failures: [], coolUntil: 0 };
      this.states.set(deployment, state);
    }
    return state;
  }
}
