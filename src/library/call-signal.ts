/**
 * The AbortSignal of one call: the caller's `signal`, the call's
 * `timeoutMs`, and the client's own cancellation (a stream's consumer that
 * leaves early), combined into one. The abort reason is a RelayError whose
 * message says which one fired.
 */
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
  const timer = timeoutMs === undefined ? null : setTimeout(() => abort(new RelayError({ status: 504, message: `Timed out after ${timeoutMs} ms`, code: "timeout", errorClass: "upstream_timeout" })), timeoutMs);
  timer?.unref();
  return {
    signal: controller.signal,
    cancel: (message) => abort(new RelayError({ status: 499, message, code: "aborted", errorClass: "internal" })),
    dispose() {
      if (timer) clearTimeout(timer);
      callerSignal?.removeEventListener("abort", onCallerAbort);
    },
  };
}

function aborted(reason: unknown): RelayError {
  const detail = reason instanceof Error && reason.name !== "AbortError" ? `: ${reason.message}` : typeof reason === "string" ? `: ${reason}` : "";
  return new RelayError({ status: 499, message: `Aborted by the caller${detail}`, code: "aborted", errorClass: "internal" });
}
