/**
 * The `local` provider: a GGUF model file run in-process by llama.cpp
 * through the optional package `node-llama-cpp` (see `gguf-backend.ts`),
 * behind the shared raw-completion engine (prompt format, context-window
 * check, usage, chunks).
 *
 * Config keys: `model_path` (the GGUF file, relative to the config file),
 * `threads` (default: the number of CPUs), `context_window` (default: the
 * model's training context), `prompt_format` (default: `auto`, the GGUF's
 * `tokenizer.chat_template`, with ChatML when it has none).
 */
import { errors } from "../../protocol/error-codes.js";
import os from "node:os";
import path from "node:path";
import type { Deployment } from "../../config/schema.js";
import { createRawCompletionProvider } from "../raw/raw-completion-provider.js";
import type { ChatProvider, ProviderContext } from "../types.js";
import { createGgufBackend } from "./gguf-backend.js";
import type { NodeLlamaCppImport } from "./node-llama.js";

/** Internal options (tests). */
export interface LocalProviderOptions {
  /** How node-llama-cpp is imported; default: `import("node-llama-cpp")`. */
  importModule?: NodeLlamaCppImport;
}

/**
 * Creates the provider of one `local` deployment. Does no I/O: the package
 * is imported and the model loaded on the first request.
 * @throws RelayError 500 when the deployment has no `model_path`
 */
export function createLocalProvider(
  deployment: Deployment,
  context: ProviderContext,
  options: LocalProviderOptions = {},
): ChatProvider {
  if (!deployment.model_path) {
    throw errors.providerMisconfigured("The local deployment has no model_path (the GGUF file to load)");
  }
  const promptFormat = deployment.prompt_format ?? "auto";
  const backend = createGgufBackend({
    modelPath: path.resolve(context.baseDir, deployment.model_path),
    threads: deployment.threads ?? os.availableParallelism(),
    contextWindow: deployment.context_window ?? null,
    usesModelTemplate: promptFormat === "auto",
    logger: context.logger,
    ...(options.importModule ? { importModule: options.importModule } : {}),
  });
  return createRawCompletionProvider("local", { ...deployment, prompt_format: promptFormat }, context, backend);
}
