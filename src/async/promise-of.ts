/**
 * A synchronous implementation behind an interface that returns promises.
 */

/**
 * Runs `work` now and gives its result as a promise: its value resolves
 * it, its throw rejects it. The contract an `async` method gives (errors
 * arrive as rejections, never as a synchronous throw), for work that awaits
 * nothing.
 * @param work synchronous work; it must not return a promise
 */
export function promiseOf<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(work()));
}
