/**
 * The AbortSignal of one call: the caller's `signal`, the call's
 * `timeoutMs`, and the client's own cancellation (a stream's consumer that
 * leaves early), combined into one. The abort reason is a RelayError whose
 * message says which one fired.
 */
import { errors } from "../protocol/error-codes.js";
import { RelayError } from "../protocol/errors.js";

/** One call's signal and its cleanup. */
export interface CallSignal {
  signal: AbortSignal;
  /** Aborts the call (e.g. a stream's consumer stopped reading). */
  cancel(message: string): void;
  /** Clears the timer and listeners; call once the call has ended. */
  dispose(): void;
}

/** Combines the caller's signal and timeout into one signal. */
export function callSignal(callerSignal: AbortSignal | undefined, timeoutMs: number | undefined): CallSignal {
  const controller = new AbortController();
  const abort = (reason: RelayError) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const onCallerAbort = () => abort(aborted(callerSignal?.reason));
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener("abort", onCallerAbort, { once: true });
  const timer =
    timeoutMs === undefined
      ? null
      : setTimeout(() => abort(errors.timeout(`Timed out after ${timeoutMs} ms`)), timeoutMs);
  timer?.unref();
  return {
    signal: controller.signal,
    cancel: (message) => abort(errors.aborted(message)),
    dispose() {
      if (timer) clearTimeout(timer);
      callerSignal?.removeEventListener("abort", onCallerAbort);
    },
  };
}

function aborted(reason: unknown): RelayError {
  const detail =
    reason instanceof Error && reason.name !== "AbortError"
      ? `: ${reason.message}`
      : typeof reason === "string"
        ? `: ${reason}`
        : "";
  return errors.aborted(`Aborted by the caller${detail}`);
}
