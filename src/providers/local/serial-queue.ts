/**
 * A first-come first-served lock: one holder at a time, the others wait
 * in order. The local provider holds it for each generation, because one
 * llama.cpp context sequence generates one completion at a time.
 */

/** Releases the lock (idempotent). */
export type Release = () => void;

/** A FIFO lock whose waiters can give up through an AbortSignal. */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  /**
   * Waits for the lock.
   * @param signal gives up waiting when aborted (the place in the queue is handed on)
   * @returns the release function; call it once the work is done
   * @throws `signal.reason` (wrapped in an Error when it is not one) when the signal aborts before the lock is obtained
   */
  async acquire(signal: AbortSignal): Promise<Release> {
    const previous = this.tail;
    let release!: Release;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.tail = previous.then(() => released);
    try {
      await abortable(previous, signal);
    } catch (error) {
      void previous.then(release);
      throw error;
    }
    return release;
  }
}

/**
 * `promise`, or a rejection with `signal.reason` as soon as `signal` aborts
 * (a reason that is not an `Error` is wrapped in one, as its `cause`).
 */
function abortable(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error("the queue's previous holder failed", { cause: error }));
      },
    );
  });
}

/** The reason `signal` aborted, as an `Error` (`abort()` without a reason gives a DOMException, itself an `Error`). */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error("aborted", { cause: reason });
}
