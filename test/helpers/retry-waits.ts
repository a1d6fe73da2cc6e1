/**
 * The dispatcher's waits between two attempts (Retry-After, backoff), under
 * the test's control instead of the clock's. A test file that runs the proxy
 * in-process replaces `sleep` of `src/routing/retry-policy.ts` with
 * {@link retryWaits}`.sleep` (`vi.mock`, see test/server/resilience.test.ts);
 * the real `sleep` has its own unit test (test/routing/retry-policy.test.ts).
 * Each wait the dispatcher asks for is recorded with its length in ms, and
 * either ends at once (`instant`) or lasts until the test releases it or the
 * request's signal aborts it (`held`), as the real timer would.
 */

/** One wait the dispatcher asked for. */
export interface RetryWait {
  /** The wait asked for, in ms. */
  ms: number;
  /** `pending` while held; `released` once it ended normally; `aborted` when its signal cut it short. */
  state: "pending" | "released" | "aborted";
  /** Ends a held wait as its timer would (no-op once it ended). */
  release(): void;
}

/** The waits of one test file's proxy. */
export class RetryWaits {
  /** Every wait asked for since the last {@link reset}, in order. */
  readonly asked: RetryWait[] = [];
  /** `instant`: each wait ends at once; `held`: each lasts until released or aborted. */
  mode: "instant" | "held" = "instant";

  /** Forgets the waits asked for and goes back to `instant`. */
  reset(): void {
    this.asked.length = 0;
    this.mode = "instant";
  }

  /**
   * Stands in for retry-policy's `sleep(ms, signal)`: same contract (rejects with the signal's
   * reason once it is aborted, at once when it already is), time as the test decides.
   */
  readonly sleep = (ms: number, signal: AbortSignal): Promise<void> => {
    let settle: (state: "released" | "aborted") => void = () => undefined;
    const wait: RetryWait = { ms, state: "pending", release: () => settle("released") };
    this.asked.push(wait);
    if (signal.aborted) {
      wait.state = "aborted";
      return Promise.reject(signal.reason as Error);
    }
    if (this.mode === "instant" || ms <= 0) {
      wait.state = "released";
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => settle("aborted");
      settle = (state) => {
        if (wait.state !== "pending") return;
        wait.state = state;
        signal.removeEventListener("abort", onAbort);
        if (state === "released") resolve();
        else reject(signal.reason as Error);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  };
}

/** The one instance the mocked module and the test file share. */
export const retryWaits = new RetryWaits();
