/**
 * The text deltas of a stream, between the call that produces them and
 * the caller's `for await` loop. Once a loop is iterating, the producer is
 * held back until the loop asks for more (backpressure, as a slow HTTP
 * client holds back the server), so a loop that aborts after a delta stops
 * the stream there. With no loop attached (only `.response` awaited),
 * deltas are buffered.
 */
import { promiseOf } from "../async/promise-of.js";

/** A single-consumer async queue of strings. */
export class DeltaQueue implements AsyncIterable<string> {
  private readonly buffer: string[] = [];
  private ended = false;
  private attached = false;
  private wakeConsumer: (() => void) | null = null;
  private releaseProducer: (() => void) | null = null;

  /**
   * @param signal aborting it releases a held-back producer
   * @param onEarlyReturn called when the loop leaves before the end (`break`)
   */
  constructor(
    signal: AbortSignal,
    private readonly onEarlyReturn: () => void,
  ) {
    signal.addEventListener("abort", () => this.release(), { once: true });
  }

  /** Adds a delta; returns a promise (hold the next one back until it settles) when a loop is iterating. */
  push(delta: string): Promise<void> | undefined {
    if (this.ended) return undefined;
    this.buffer.push(delta);
    this.wake();
    if (!this.attached) return undefined;
    return new Promise<void>((resolve) => {
      this.releaseProducer = resolve;
    });
  }

  /** No more deltas will come. */
  end(): void {
    this.ended = true;
    this.wake();
    this.release();
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    this.attached = true;
    return {
      next: async (): Promise<IteratorResult<string>> => {
        for (;;) {
          const delta = this.buffer.shift();
          if (delta !== undefined) return { value: delta, done: false };
          if (this.ended) return { value: undefined, done: true };
          this.release();
          await new Promise<void>((resolve) => {
            this.wakeConsumer = resolve;
          });
        }
      },
      return: (): Promise<IteratorResult<string>> =>
        promiseOf(() => {
          if (!this.ended) this.onEarlyReturn();
          this.end();
          return { value: undefined, done: true };
        }),
    };
  }

  private wake(): void {
    const wake = this.wakeConsumer;
    this.wakeConsumer = null;
    wake?.();
  }

  private release(): void {
    const release = this.releaseProducer;
    this.releaseProducer = null;
    release?.();
  }
}
