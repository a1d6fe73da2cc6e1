/**
 * The blocking forms (`generateCompletionSync`, …): the async call runs in
 * a worker thread (synckit) while this thread waits on it. The worker is
 * started on the first blocking call and kept (unref'd) for the next ones.
 * Built JS runs `sync-worker.js`; from TypeScript sources (vitest, tsx)
 * `sync-worker-from-sources.mjs` registers tsx in the worker and loads
 * `sync-worker.ts`.
 */
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { createSyncFn } from "synckit";
import type { LibraryConfigInput } from "../config/load.js";
import { invalidRequest } from "../protocol/errors.js";
import { failureResponse } from "./llm-response.js";
import type { ChatMessage, LLMResponse, SyncCompletionOptions } from "./types.js";

/** How the worker rebuilds the calling client: `{}`/`{config}` in-process, `{baseURL}` over HTTP; null = the default client. */
export type SyncClientSpec =
  | { config?: string | LibraryConfigInput; baseURL?: undefined }
  | { baseURL: string; apiKey?: string; config?: undefined };

/** One blocking call, as sent to the worker (structured-cloned). */
export interface SyncRequest {
  client: SyncClientSpec | null;
  method: "generateCompletion" | "generateCompletionWithMessages";
  input: string | readonly ChatMessage[];
  options: SyncCompletionOptions | undefined;
  /** The caller's environment at the time of the call (the worker's own copy is taken at its start). */
  env: Record<string, string | undefined>;
}

let syncFn: ((request: SyncRequest) => LLMResponse) | null = null;

/** Runs `request` in the worker and waits for its answer. Never throws. */
export function runSync(request: SyncRequest): LLMResponse {
  const startedAt = performance.now();
  const options = request.options as { signal?: unknown; model?: unknown } | undefined;
  const model = (typeof options?.model === "string" && options.model) || request.env.LLM_MODEL_NAME || "echo";
  if (options && typeof options === "object" && options.signal !== undefined) {
    const error = invalidRequest(
      "options.signal is not supported by the …Sync forms (an AbortSignal cannot cross threads); use timeoutMs",
      "signal",
      "invalid_argument",
    );
    return failureResponse(error, startedAt, performance.now(), model);
  }
  try {
    syncFn ??= startWorker();
    return syncFn(request);
  } catch (error) {
    return failureResponse(error, startedAt, performance.now(), model);
  }
}

function startWorker(): (request: SyncRequest) => LLMResponse {
  // From TypeScript sources the worker is a small .mjs that registers tsx (a devDependency) in the worker, then loads sync-worker.ts.
  const fromSources = import.meta.url.endsWith(".ts");
  const worker = fromSources ? "./sync-worker-from-sources.mjs" : "./sync-worker.js";
  return createSyncFn(fileURLToPath(new URL(worker, import.meta.url)));
}
