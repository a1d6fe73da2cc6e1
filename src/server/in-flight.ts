/**
 * Tracks the exchanges in progress, so that a graceful stop can wait for
 * them and, after the grace period, cancel the rest, and so that the
 * browser's Live page (`/ui/api/live`) can show what is in flight.
 */

import type { ServerResponse } from "node:http";
import { SHUTDOWN_REASON } from "../exchange/outcome.js";

/** What a route tells about an exchange it starts (shown on the browser's Live page). */
export interface InFlightInfo {
  /** The exchange's id (`responses.id`, a lowercase ULID). */
  id: string;
  /** The model the client asked for. */
  model: string;
  /** Inbound protocol (`chat`, `messages`, `responses`, `ollama`, `gemini`, `completions`, `embeddings`). */
  protocol: string;
  /** The tenant (`default` without API keys), or null when admission did not run. */
  tenant: string | null;
  /** Start, ms since the epoch. */
  startedAt: number;
  /** Whether the answer is streamed. */
  stream: boolean;
}

/** The set of in-flight exchanges. */
export class InFlight {
  private readonly controllers = new Map<AbortController, InFlightInfo | null>();
  private readonly listeners = new Set<() => void>();
  private idle: (() => void) | null = null;

  /** Number of exchanges in progress. */
  get size(): number {
    return this.controllers.size;
  }

  /**
   * Registers an exchange (with what it is, when known); call the returned function when it has ended.
   * Both the start and the end notify the {@link onChange} listeners.
   */
  begin(controller: AbortController, info: InFlightInfo | null = null): () => void {
    this.controllers.set(controller, info);
    this.changed();
    return () => {
      if (!this.controllers.delete(controller)) return;
      this.changed();
      if (this.controllers.size === 0) this.idle?.();
    };
  }

  /** The exchanges in progress that told what they are, oldest first. */
  list(): InFlightInfo[] {
    const infos: InFlightInfo[] = [];
    for (const info of this.controllers.values()) if (info) infos.push(info);
    return infos.sort((a, b) => a.startedAt - b.startedAt);
  }

  /**
   * Calls `listener` after every start and end of an exchange (synchronously: keep it cheap).
   * @returns a function that removes the listener
   */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
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
        for (const controller of this.controllers.keys()) controller.abort(new Error(SHUTDOWN_REASON));
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
 * abort it, and the Live page lists it as `info`), its signal aborted when the
 * client's connection closes before the answer finished. One implementation for every exchange route.
 */
export function watchClient(inFlight: InFlight, reply: { raw: ServerResponse }, info: InFlightInfo): ClientWatch {
  const controller = new AbortController();
  const leave = inFlight.begin(controller, info);
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
