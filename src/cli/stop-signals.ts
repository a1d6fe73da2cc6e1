/**
 * When `serve` stops: on SIGINT or SIGTERM sent to it, and — when npm started
 * it — when the process npm ran it in is gone.
 *
 * Why the second case: npm runs a script through `sh -c` (npm 11's
 * `@npmcli/run-script`) and forwards SIGINT and SIGTERM to that child only
 * (`signal-manager.js`). Debian's `sh` (dash) forks for the command instead
 * of replacing itself, so the signal killed the shell and left the server
 * running, holding its port. The `start` script now says `exec node …`
 * (the shell becomes the server, which gets npm's forwarded signal); `npx
 * llm-relay serve` still runs through a shell that forks, so a server
 * started by npm also stops when its parent process goes away.
 *
 * A Ctrl-C in a terminal reaches every process of the foreground group: under
 * `npm start` the server gets SIGINT from the terminal and again from npm's
 * forwarding. A second signal within {@link SAME_SIGNAL_WINDOW_MS} of the first
 * is taken as that copy; a later one means "exit now".
 */

/** A second stop signal this soon after the first (ms) is the same request, not a demand to exit at once. */
export const SAME_SIGNAL_WINDOW_MS = 500;
/** How often a server started by npm checks that its parent process is still there, in ms. */
export const PARENT_CHECK_MS = 500;

/** What the caller does when asked to stop. */
export interface StopHandlers {
  /** The first request: a graceful stop. `reason` is the signal, or `parent exited`. */
  stop(reason: string): void;
  /** A second signal, later than {@link SAME_SIGNAL_WINDOW_MS}: exit at once. */
  exitNow(signal: NodeJS.Signals): void;
}

/**
 * Installs the SIGINT/SIGTERM handlers and, when `env.npm_lifecycle_event` says npm started the process
 * (`npm start`, `npx`), a check of the parent process every {@link PARENT_CHECK_MS} (its timer does not
 * keep the process alive).
 * @returns a function that removes the handlers and the check
 */
export function onStopRequest(handlers: StopHandlers, env: NodeJS.ProcessEnv = process.env): () => void {
  let firstAt: number | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    const now = performance.now();
    if (firstAt === null) {
      firstAt = now;
      handlers.stop(signal);
    } else if (now - firstAt > SAME_SIGNAL_WINDOW_MS) {
      handlers.exitNow(signal);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let timer: NodeJS.Timeout | null = null;
  if (env.npm_lifecycle_event !== undefined) {
    const parent = process.ppid;
    timer = setInterval(() => {
      if (process.ppid === parent || firstAt !== null) return;
      firstAt = performance.now();
      handlers.stop("parent exited");
    }, PARENT_CHECK_MS);
    timer.unref();
  }
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (timer) clearInterval(timer);
  };
}

/**
 * The CLI's servers (`serve`, `ui`): a first stop request closes `server` gracefully, then exits 0 (1, with the
 * error on stderr, when closing fails); a second signal after {@link SAME_SIGNAL_WINDOW_MS} exits 130 at once.
 * @param onStop called with the reason before the close starts (the proxy logs it)
 */
export function exitOnStopRequest(server: { close(): Promise<void> }, onStop?: (reason: string) => void): void {
  onStopRequest({
    stop: (reason) => {
      onStop?.(reason);
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`llm-relay: error while stopping: ${(error as Error).message}\n`);
          process.exit(1);
        },
      );
    },
    exitNow: (signal) => {
      process.stderr.write(`llm-relay: ${signal} again, exiting now\n`);
      process.exit(130);
    },
  });
}
