/**
 * Bridges callbacks into an async iterable: a producer `push`es items (in
 * the local provider, node-llama-cpp's `onTextChunk` calls), then `end`s
 * or `fail`s; one consumer reads them with `for await`. Unbounded: the
 * producer never waits (text chunks are a few bytes each).
 */

/** A single-consumer queue read as an async iterable. */
export class PushStream<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private done = false;
  private failure: { error: unknown } | null = null;
  private wake: (() => void) | null = null;

  /** Adds an item; ignored after `end` or `fail`. */
  push(item: T): void {
    if (this.done) return;
    this.items.push(item);
    this.notify();
  }

  /** Ends the stream after the items already pushed. */
  end(): void {
    this.done = true;
    this.notify();
  }

  /** Ends the stream with an error, thrown to the consumer after the items already pushed. */
  fail(error: unknown): void {
    if (this.done) return;
    this.failure = { error };
    this.done = true;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length > 0) {
        yield this.items.shift() as T;
        continue;
      }
      if (this.failure) throw this.failure.error;
      if (this.done) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
