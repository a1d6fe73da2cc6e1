/**
 * Tracks the exchanges in progress, so that a graceful stop can wait for
 * them and, after the grace period, cancel the rest.
 */

import type { ServerResponse } from "node:http";
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

/** An exchange's life on the server: aborted when the client leaves or the server stops. */
export interface ClientWatch {
  /** Aborted with "client disconnected" when the client closes before the answer finished, or by a stop. */
  signal: AbortSignal;
  /** Stops watching the client and leaves the in-flight set (call once, when the exchange has ended). */
  end(): void;
}

/**
 * Starts an exchange of `reply`'s request: counted in flight (so a stop can
 * abort it), its signal aborted when the client's connection closes before
 * the answer finished. One implementation for every exchange route.
 */
export function watchClient(inFlight: InFlight, reply: { raw: ServerResponse }): ClientWatch {
  const controller = new AbortController();
  const leave = inFlight.begin(controller);
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort(new Error("client disconnected"));
  };
  reply.raw.once("close", onClose);
  return {
    signal: controller.signal,
    end: () => {
      reply.raw.off("close", onClose);
      leave();
    },
  };
}
