/**
 * The optional peer dependency `node-llama-cpp`: imported on first use
 * (never at module load, so the server starts and serves other providers
 * without it), and its llama.cpp binding opened once per process with
 * `getLlama({ build: "never" })` (the prebuilt CPU/GPU binaries only; it
 * never downloads or compiles llama.cpp on a request path).
 */
import { errors } from "../../protocol/error-codes.js";
import os from "node:os";
import type * as NodeLlamaCpp from "node-llama-cpp";
import type { Logger } from "pino";
import { RelayError } from "../../protocol/errors.js";

/** The `node-llama-cpp` module namespace (3.x API). */
export type NodeLlamaCppModule = typeof NodeLlamaCpp;

/** The imported module with its process-wide llama.cpp binding. */
export interface LlamaBinding {
  module: NodeLlamaCppModule;
  llama: NodeLlamaCpp.Llama;
}

/** Imports `node-llama-cpp`; rejects (`ERR_MODULE_NOT_FOUND`) when it is not installed. */
export type NodeLlamaCppImport = () => Promise<NodeLlamaCppModule>;

/** The package to install, as named in the error. */
export const NODE_LLAMA_CPP_PACKAGE = "node-llama-cpp";

/** The real dynamic import. */
export const importNodeLlamaCpp: NodeLlamaCppImport = () => import("node-llama-cpp");

/** One binding per import function (one per process for the real import); a failure is not cached, so installing the package later works. */
const bindings = new WeakMap<NodeLlamaCppImport, Promise<LlamaBinding>>();
/** Import functions whose failure was already logged (log once, answer every request). */
const reported = new WeakSet<NodeLlamaCppImport>();

/**
 * 501 `provider_unavailable`: `node-llama-cpp` could not be imported.
 * @param cause the import's error
 */
export function packageMissing(cause: unknown): RelayError {
  return errors.providerUnavailable(
    `The local provider needs the optional package ${NODE_LLAMA_CPP_PACKAGE}, which could not be loaded (${reason(cause)}). ` +
      `Install it with \`npm install ${NODE_LLAMA_CPP_PACKAGE}\` next to llm-relay and restart.`,
    { cause },
  );
}

/** 501 `provider_unavailable`: the package is there but has no usable llama.cpp binary for this machine. */
function bindingUnavailable(cause: unknown): RelayError {
  return errors.providerUnavailable(
    `${NODE_LLAMA_CPP_PACKAGE} is installed but has no usable llama.cpp binary for this machine (${reason(cause)}). ` +
      `Build one with \`npx --no ${NODE_LLAMA_CPP_PACKAGE} source download\` and restart.`,
    { cause },
  );
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0]! : String(error);
}

async function open(importModule: NodeLlamaCppImport, logger: Logger): Promise<LlamaBinding> {
  let module: NodeLlamaCppModule;
  try {
    module = await importModule();
  } catch (error) {
    throw packageMissing(error);
  }
  try {
    const llama = await module.getLlama({
      build: "never",
      // Threads of all contexts together: concurrent deployments share the cores instead of oversubscribing them.
      maxThreads: os.availableParallelism(),
      logLevel: module.LlamaLogLevel.error,
      logger: (_level, message) => logger.error({ provider: "local" }, `llama.cpp: ${message.trim()}`),
    });
    return { module, llama };
  } catch (error) {
    throw bindingUnavailable(error);
  }
}

/**
 * The process-wide binding, opened on first call (about 0.5 s).
 * @param logger where the failure is logged (once) and llama.cpp's own errors go
 * @param importModule the import to use (tests inject a failing one)
 * @throws RelayError 501 `provider_unavailable` naming `npm install node-llama-cpp` when the package is missing, or when it has no binary for this machine
 */
export function loadLlamaBinding(
  logger: Logger,
  importModule: NodeLlamaCppImport = importNodeLlamaCpp,
): Promise<LlamaBinding> {
  let binding = bindings.get(importModule);
  if (!binding) {
    binding = open(importModule, logger).catch((error: unknown) => {
      bindings.delete(importModule);
      if (!reported.has(importModule)) {
        reported.add(importModule);
        logger.error({ provider: "local", err: error }, error instanceof Error ? error.message : String(error));
      }
      throw error;
    });
    bindings.set(importModule, binding);
  }
  return binding;
}
