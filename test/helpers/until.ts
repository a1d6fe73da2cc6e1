/**
 * Polls a condition instead of sleeping for it: the tests' one way to wait
 * for something that happens off the request path (a record written, a
 * ledger row booked, a child process's state).
 */

/** Options of {@link until}. */
export interface UntilOptions {
  /** Give up after this long, in ms (default 15 000). */
  timeoutMs?: number;
  /** Time between two checks, in ms (default 20). */
  everyMs?: number;
}

/**
 * Resolves once `check()` is true, checking every `everyMs`.
 * @param what what is waited for, named in the error (a function: computed when it times out)
 * @throws Error `timed out waiting for <what>` after `timeoutMs`
 */
export async function until(
  what: string | (() => string),
  check: () => boolean | Promise<boolean>,
  options: UntilOptions = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 20));
  }
}
