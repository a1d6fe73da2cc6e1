/**
 * Tracks the exchanges in progress, so that a graceful stop can wait for
 * them and, after the grace period, cancel the rest.
 */

import { SHUTDOWN_REASON } from "../exchange/outcome.js";

/** The set of in-flight exchanges. */
export class InFlight {
  private readonly controllers = new Set<AbortController>();
  private idle: (() => void) | null = null;

  /** Number of exchanges in progress. */
  get size(): number {
    return this.controllers.size;
  }

  /** Registers an exchange; call the returned function when it has ended. */
  begin(controller: AbortController): () => void {
    this.controllers.add(controller);
    return () => {
      this.controllers.delete(controller);
      if (this.controllers.size === 0) this.idle?.();
    };
  }

  /**
   * Resolves once no exchange is in progress, or after `graceMs`, when the
   * remaining ones are aborted (they record themselves as `cancelled`)
   * and then awaited.
   */
  async drain(graceMs: number): Promise<void> {
    if (this.controllers.size === 0) return;
    const allDone = new Promise<void>((resolve) => {
      this.idle = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const controller of this.controllers) controller.abort(new Error(SHUTDOWN_REASON));
        resolve();
      }, graceMs);
    });
    await Promise.race([allDone, grace]);
    clearTimeout(timer);
    await allDone;
  }
}
