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
   * @throws `signal.reason` when the signal aborts before the lock is obtained
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

/** `promise`, or a rejection with `signal.reason` as soon as `signal` aborts. */
function abortable(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}
