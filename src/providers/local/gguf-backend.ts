/**
 * The `local` provider's backend: a GGUF model run in-process by llama.cpp
 * through node-llama-cpp 3.x, as a {@link RawBackend}. The rendered prompt
 * is completed with the low-level `LlamaCompletion` API
 * (`generateCompletionWithMeta`, https://node-llama-cpp.withcat.ai/guide/text-completion);
 * token counts come from the model's own tokenizer and the context's token
 * meter; the context window and chat template from the GGUF file.
 *
 * Loading is lazy: the first request (or discovery) imports node-llama-cpp,
 * loads the model once and creates one context with one sequence, with the
 * deployment's thread count (node-llama-cpp's default of 4 threads is about
 * 1,000× slower on a 2-core machine).
 *
 * Concurrency: generations of one deployment are serialised (a FIFO
 * {@link SerialQueue}) on that single sequence. On CPU, parallel sequences
 * would share the same cores for no gain in throughput while multiplying
 * the KV-cache memory by the number of sequences; one sequence also keeps
 * its KV cache between requests, so a continued conversation only
 * evaluates the new tail of the prompt. A request waiting in the queue
 * leaves it when its signal aborts (client gone, total timeout).
 *
 * Constrained decoding (`raw/constrained.ts`): a request's JSON schema
 * becomes node-llama-cpp's JSON-schema grammar
 * (`llama.createGrammarForJsonSchema`, https://node-llama-cpp.withcat.ai/guide/grammar#json-schema),
 * `json_object` its built-in `json` grammar, passed to the completion as
 * `grammar`. A schema node-llama-cpp cannot turn into a grammar (it takes a
 * subset of JSON Schema) is logged and the answer is generated unconstrained.
 */
import { errors } from "../../protocol/error-codes.js";
import fs from "node:fs";
import path from "node:path";
import type {
  Llama,
  LlamaCompletion,
  LlamaCompletionGenerationOptions,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
  Token,
} from "node-llama-cpp";
import type { GbnfJsonSchema } from "node-llama-cpp";
import type { Logger } from "pino";
import { RelayError } from "../../protocol/errors.js";
import { contextLengthExceeded } from "../raw/context-window.js";
import type { RawBackend, RawDelta, RawDiscovery, RawFinishReason, RawRequest, RawResult } from "../raw/raw-backend.js";
import type { SamplingParams } from "../raw/sampling.js";
import {
  importNodeLlamaCpp,
  loadLlamaBinding,
  type NodeLlamaCppImport,
  type NodeLlamaCppModule,
} from "./node-llama.js";
import { PushStream } from "./push-stream.js";
import { SerialQueue } from "./serial-queue.js";

/** What the backend of one deployment needs. */
export interface GgufBackendOptions {
  /** Absolute path of the GGUF file. */
  modelPath: string;
  /** CPU threads the context evaluates with. */
  threads: number;
  /** The configured context window, in tokens; null: the model's training context, or less when memory does not allow it. */
  contextWindow: number | null;
  /** Whether the prompt format is the model's own template (`auto`): then a GGUF without one is logged (ChatML is used). */
  usesModelTemplate: boolean;
  /** Load failures (once) and llama.cpp's own errors. */
  logger: Logger;
  /** How node-llama-cpp is imported (tests inject a failing import). */
  importModule?: NodeLlamaCppImport;
}

/** The loaded model and its one generation slot. */
interface Loaded {
  /** The process's llama.cpp binding (grammars are made with it). */
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  completion: LlamaCompletion;
  /** Whether `LlamaCompletion` puts the BOS token before the prompt's tokens (it counts in the prompt). */
  prependsBos: boolean;
}

/**
 * Creates the backend of one `local` deployment. Does no I/O until the
 * first call.
 */
export function createGgufBackend(options: GgufBackendOptions): RawBackend {
  return new GgufBackend(options);
}

class GgufBackend implements RawBackend {
  readonly target: string;
  /**
   * Always true: `LlamaCompletion` prepends BOS itself when the model wants
   * one (`tokenizer.ggml.add_bos_token`), so the prompt is rendered without
   * the BOS text; a model that wants none gets none either way.
   */
  readonly addsBos = true;
  /** JSON-schema grammars. */
  readonly constrainsOutput = true;
  private loading: Promise<Loaded> | null = null;
  private loadFailureLogged = false;
  private readonly queue = new SerialQueue();
  /** The last prompt tokenized (counted, then generated: tokenized once). */
  private lastTokens: { prompt: string; tokens: Token[] } | null = null;

  constructor(private readonly options: GgufBackendOptions) {
    this.target = path.basename(options.modelPath);
  }

  async discover(): Promise<RawDiscovery> {
    const { model, context } = await this.load();
    const template = model.fileInfo.metadata.tokenizer?.chat_template;
    if (typeof template !== "string" || template === "") {
      if (this.options.usesModelTemplate) {
        this.options.logger.info(
          { provider: "local", model_path: this.options.modelPath },
          "the GGUF has no tokenizer.chat_template; prompts use ChatML",
        );
      }
      return { contextWindow: context.contextSize, template: null };
    }
    return {
      contextWindow: context.contextSize,
      template: { template, source: "gguf", bosToken: model.tokens.bosString, eosToken: model.tokens.eosString },
    };
  }

  async countTokens(prompt: string): Promise<number> {
    const loaded = await this.load();
    return this.tokenize(loaded, prompt).length + (loaded.prependsBos ? 1 : 0);
  }

  async complete(request: RawRequest): Promise<RawResult> {
    const loaded = await this.load();
    const release = await this.queue.acquire(request.signal);
    try {
      return await this.generate(loaded, request, request.signal);
    } finally {
      release();
    }
  }

  async *stream(request: RawRequest): AsyncIterable<RawDelta> {
    const loaded = await this.load();
    const release = await this.queue.acquire(request.signal);
    // Stops the generation when the client leaves, and when the consumer stops reading early.
    const stop = new AbortController();
    const forward = () => stop.abort(request.signal.reason);
    if (request.signal.aborted) forward();
    else request.signal.addEventListener("abort", forward, { once: true });
    const deltas = new PushStream<RawDelta>();
    void this.generate(loaded, request, stop.signal, (text) => deltas.push({ text }))
      .then(
        ({ finishReason, promptTokens, completionTokens }) => {
          deltas.push({ finishReason, promptTokens, completionTokens });
          deltas.end();
        },
        (error: unknown) => deltas.fail(error),
      )
      .finally(() => {
        request.signal.removeEventListener("abort", forward);
        release();
      });
    let finished = false;
    try {
      for await (const delta of deltas) {
        if (delta.finishReason) finished = true;
        yield delta;
      }
    } finally {
      if (!finished) stop.abort(new Error("the stream's reader left before the completion finished"));
    }
  }

  async close(): Promise<void> {
    const loading = this.loading;
    this.loading = null;
    this.lastTokens = null;
    const loaded = await loading?.catch(() => null);
    if (!loaded) return;
    await loaded.context.dispose();
    await loaded.model.dispose();
  }

  /** Loads the model and context once; a failure is not cached (the next request tries again). */
  private load(): Promise<Loaded> {
    this.loading ??= this.open().catch((error: unknown) => {
      this.loading = null;
      throw error;
    });
    return this.loading;
  }

  private async open(): Promise<Loaded> {
    const { logger, modelPath, threads, contextWindow } = this.options;
    const { module, llama } = await loadLlamaBinding(logger, this.options.importModule ?? importNodeLlamaCpp);
    let model: LlamaModel;
    try {
      if (!fs.statSync(modelPath).isFile()) throw new Error("not a file");
      model = await llama.loadModel({ modelPath });
    } catch (error) {
      throw this.loadFailed(error);
    }
    try {
      const context = await model.createContext({
        threads,
        contextSize: contextWindow ?? { max: model.trainContextSize },
      });
      const sequence = context.getSequence();
      const completion = new module.LlamaCompletion({ contextSequence: sequence });
      return { llama, model, context, sequence, completion, prependsBos: prependsBos(module, model) };
    } catch (error) {
      await model.dispose();
      throw this.loadFailed(error);
    }
  }

  private loadFailed(cause: unknown): RelayError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const error = errors.modelLoadFailed(`The local model ${this.options.modelPath} could not be loaded: ${reason}`, {
      cause,
    });
    if (!this.loadFailureLogged) {
      this.loadFailureLogged = true;
      this.options.logger.error({ provider: "local", model_path: this.options.modelPath }, error.message);
    }
    return error;
  }

  /**
   * The prompt's tokens (without the BOS `LlamaCompletion` adds), as
   * llama.cpp's own tokenizer makes them for llama-server's `/completion`:
   * special-token text (`<|im_start|>`, `[INST]`) becomes the special
   * tokens, since prompt formats write them as text, and a SentencePiece
   * vocabulary gets its usual leading-space prefix. (A string prompt given to
   * `LlamaCompletion` would be tokenized with special tokens as plain text
   * and the leading space trimmed, so `Once` would become `O`,`n`,`ce`.)
   */
  private tokenize(loaded: Loaded, prompt: string): Token[] {
    if (this.lastTokens?.prompt !== prompt) {
      this.lastTokens = { prompt, tokens: loaded.model.tokenize(prompt, true) };
    }
    return this.lastTokens.tokens;
  }

  /**
   * One generation on the sequence (the caller holds the queue).
   * @param onText receives each piece of text as it is generated
   * @throws RelayError 400 `context_length_exceeded` when the prompt leaves no room in the context; `signal.reason` when aborted
   */
  private async generate(
    loaded: Loaded,
    request: RawRequest,
    signal: AbortSignal,
    onText?: (text: string) => void,
  ): Promise<RawResult> {
    const tokens = this.tokenize(loaded, request.prompt);
    const promptTokens = tokens.length + (loaded.prependsBos ? 1 : 0);
    const window = loaded.context.contextSize;
    const room = window - promptTokens;
    const wanted = request.params.maxTokens;
    if (room < 1) throw contextLengthExceeded(promptTokens, Math.max(1, wanted ?? 0), window);
    const grammar = await this.grammarOf(loaded, request);
    const before = loaded.sequence.tokenMeter.usedOutputTokens;
    try {
      const result = await loaded.completion.generateCompletionWithMeta(tokens.slice(), {
        ...generationOptions(request.params),
        // Stop at the end of the window (finish_reason `length`) instead of shifting the context, which would silently drop the prompt's start.
        maxTokens: Math.min(wanted ?? room, room),
        disableContextShift: true,
        contextShiftSize: 0,
        signal,
        ...(onText ? { onTextChunk: onText } : {}),
        ...(grammar ? { grammar } : {}),
      });
      const finishReason: RawFinishReason = result.metadata.stopReason === "maxTokens" ? "length" : "stop";
      return {
        text: result.response,
        finishReason,
        promptTokens,
        completionTokens: loaded.sequence.tokenMeter.usedOutputTokens - before,
      };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw errors.generationFailed(
        `llama.cpp failed while generating with ${this.target}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }
  /**
   * The grammar of the request's constraint, or null (none asked, or a schema node-llama-cpp cannot
   * express: logged, and the answer is generated unconstrained; the engine then reads it as text).
   */
  private async grammarOf(loaded: Loaded, request: RawRequest): Promise<LlamaGrammar | null> {
    const constraint = request.constraint;
    if (!constraint) return null;
    try {
      if (constraint.schema === null) return await loaded.llama.getGrammarFor("json");
      return await loaded.llama.createGrammarForJsonSchema<GbnfJsonSchema>(constraint.schema as GbnfJsonSchema);
    } catch (error) {
      this.options.logger.warn(
        { provider: "local", model_path: this.options.modelPath, error: String(error) },
        "the JSON schema cannot be turned into a grammar; the answer is generated without one",
      );
      return null;
    }
  }
}

/**
 * Whether `LlamaCompletion` prepends the BOS token to a prompt, by the rule
 * of node-llama-cpp 3.22's `resolveBeginningTokenToPrepend`
 * (`dist/utils/tokenizerUtils.js`, not exported): never for RWKV and UGM
 * vocabularies, always for WPM, else when the GGUF asks for it.
 */
function prependsBos(module: NodeLlamaCppModule, model: LlamaModel): boolean {
  const { rwkv, ugm, wpm } = module.LlamaVocabularyType;
  if (model.tokens.bos === null) return false;
  if (model.vocabularyType === rwkv || model.vocabularyType === ugm) return false;
  if (model.vocabularyType === wpm) return true;
  return model.tokens.shouldPrependBosToken;
}

/**
 * The client's sampling parameters in node-llama-cpp's terms; what the
 * client did not set keeps node-llama-cpp's default (no `temperature`:
 * greedy). The repeat penalty is off unless the client sent
 * `repeat_penalty`, `frequency_penalty` or `presence_penalty` (OpenAI has
 * none by default; node-llama-cpp would apply 1.1).
 */
function generationOptions(params: SamplingParams): LlamaCompletionGenerationOptions {
  const options: LlamaCompletionGenerationOptions = {};
  if (params.temperature !== undefined) options.temperature = params.temperature;
  if (params.topP !== undefined) options.topP = params.topP;
  if (params.topK !== undefined) options.topK = params.topK;
  if (params.seed !== undefined) options.seed = params.seed;
  const penalised =
    params.repeatPenalty !== undefined || params.frequencyPenalty !== undefined || params.presencePenalty !== undefined;
  options.repeatPenalty = penalised
    ? {
        penalty: params.repeatPenalty ?? 1,
        ...(params.frequencyPenalty !== undefined ? { frequencyPenalty: params.frequencyPenalty } : {}),
        ...(params.presencePenalty !== undefined ? { presencePenalty: params.presencePenalty } : {}),
      }
    : false;
  const stop = params.stop.filter((sequence) => sequence.length > 0);
  if (stop.length > 0) options.customStopTriggers = stop;
  return options;
}
