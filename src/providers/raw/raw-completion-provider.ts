/**
 * Turns a {@link RawBackend} (completes a prompt string) into a
 * {@link ChatProvider} (completes a chat): renders the messages with the
 * deployment's prompt format, checks the context window before anything
 * is sent, completes, and answers with OpenAI `chat.completion` /
 * `chat.completion.chunk` objects with usage (the backend's counts, else
 * its tokenizer's, else an estimate flagged as estimated). A request with
 * `tools` on a format with a tool convention has them rendered into the
 * prompt and its answer read back into `tool_calls` (`tool-calls.ts`). A call with a bare prompt
 * (`ProviderCall.rawPrompt`, legacy completions) skips the format and tools: the prompt goes as it is.
 */
import { errors } from "../../protocol/error-codes.js";
import type { Deployment } from "../../config/schema.js";
import { resolvePromptFormat } from "../../prompt-formats/registry.js";
import type { DiscoveredTemplate, PromptFormat } from "../../prompt-formats/types.js";
import { redactSecrets } from "../../recording/redact.js";
import { countTextTokens, EVENT_LOOP_COUNT_LIMIT_CHARS } from "../../tokens/count.js";
import {
  deploymentTimeouts,
  isTotalTimeout,
  releaseTotalTimeout,
  streamWithTotalTimeout,
  totalTimeoutError,
  withTotalTimeout,
} from "../http/timeouts.js";
import type { RawPrompt } from "../../protocol/inbound.js";
import type { ChatProvider, ProviderCall, ProviderCompletion, ProviderContext, ProviderStreamEvent } from "../types.js";
import { ChatOutput, type OutputUsage } from "../../protocol/chat-output.js";
import { assertFitsContextWindow } from "./context-window.js";
import { DISCOVERY_TTL_MS, DiscoveryCache, invalidatesDiscovery } from "./discovery-cache.js";
import type { RawBackend, RawCounts, RawDiscovery, RawRequest } from "./raw-backend.js";
import { samplingParams, type SamplingParams } from "./sampling.js";
import { callOfConstrainedText, outputConstraint, toolCallOf, type OutputConstraint } from "./constrained.js";
import { planTools, readingOfTemplate, ToolOutputReader, type ToolOutputEvent, type ToolPlan } from "./tool-calls.js";

/** A prepared call: the rendered prompt, its token count, and the request for the backend. */
interface Prepared {
  request: RawRequest;
  promptTokens: number;
  promptEstimated: boolean;
  output: ChatOutput;
  /** How the answer is read for tool calls; null: it is text. */
  reading: ToolPlan["reading"];
  /** The tool call the backend was constrained to emit as JSON (`constrained.ts`), or null. */
  constrainedCall: Extract<OutputConstraint, { kind: "call" }> | null;
}

/**
 * Creates the chat provider of one raw-completion deployment.
 * @param kind the provider kind, as in the config
 * @param deployment the deployment (its `prompt_format`, `context_window`, timeouts)
 * @param context logger (the missing-format warning, `debug` output) and base directory
 * @param backend the backend's protocol module
 */
export function createRawCompletionProvider(
  kind: string,
  deployment: Deployment,
  context: ProviderContext,
  backend: RawBackend,
): ChatProvider {
  const timeouts = deploymentTimeouts(deployment);
  // Discovery follows the backend: kept for the TTL, dropped after a connection failure or the backend's own
  // context error (src/providers/raw/discovery-cache.ts); a failed discovery (backend loading or down) is not kept.
  const discoveries = new DiscoveryCache<"model", RawDiscovery>(
    deployment.context_window_ttl_ms ?? DISCOVERY_TTL_MS,
    context.now,
  );
  let format: PromptFormat | null = null;
  /** The discovered template `format` was made from (`auto`), or null. */
  let formatTemplate: DiscoveredTemplate | null = null;

  const discover = (signal: AbortSignal): Promise<RawDiscovery> => {
    if (!backend.discover) return Promise.resolve({});
    const discoverNow = backend.discover.bind(backend);
    return discoveries.get("model", () => discoverNow(signal)).catch((): RawDiscovery => ({}));
  };

  /** Forgets what was discovered when `error` says the backend may have changed (restart, its own context refusal). */
  const noteFailure = (error: unknown): void => {
    if (invalidatesDiscovery(error)) discoveries.invalidate();
  };

  async function promptFormat(signal: AbortSignal): Promise<PromptFormat> {
    const spec = deployment.prompt_format;
    if (format && spec !== "auto") return format;
    const discovered = spec === "auto" ? ((await discover(signal)).template ?? null) : null;
    // `auto` follows the backend's template: rediscovered (after the TTL, a restart) and unchanged, or not
    // rediscovered now (the backend could not answer), the format is kept; a changed template makes a new one.
    if (format && (!discovered || sameTemplate(discovered, formatTemplate))) return format;
    if (spec === undefined) {
      context.logger.warn(
        { provider: kind, target: backend.target },
        "no prompt_format configured for this raw-completion deployment; using the default (chatml)",
      );
    }
    const resolved = resolvePromptFormat(spec, {
      baseDir: context.baseDir,
      discovered,
      onWarning: (message) => context.logger.warn({ provider: kind, target: backend.target }, message),
    });
    // `auto` without a discovered template (discovery failed) is not cached either.
    if (spec !== "auto" || discovered) {
      format = resolved;
      formatTemplate = discovered;
    }
    return resolved;
  }

  async function prepare(call: ProviderCall, signal: AbortSignal): Promise<Prepared> {
    if (call.rawPrompt) return prepareRawPrompt(call, call.rawPrompt, signal);
    const fmt = await promptFormat(signal);
    const plan = planTools(fmt, call.body, deployment.tool_convention);
    const constraint = backend.constrainsOutput ? outputConstraint(call.body) : null;
    const prompt = fmt.render(plan.messages, {
      bos: !backend.addsBos,
      ...(plan.templateTools ? { tools: plan.templateTools } : {}),
    });
    const params = samplingParams(call.body, fmt.stop);
    const counted = await countPrompt(prompt, params, signal);
    if (context.debug) {
      context.logger.debug(
        { provider: kind, target: backend.target, format: fmt.name, prompt, params: redactSecrets(params) },
        "rendered prompt",
      );
    }
    return {
      request: { prompt, params, body: call.body, signal, requestId: call.requestId, constraint },
      ...counted,
      output: new ChatOutput(`chatcmpl-${call.requestId}`, call.body.model),
      reading: readingOfTemplate(plan, prompt),
      constrainedCall: constraint?.kind === "call" ? constraint : null,
    };
  }

  /**
   * A bare prompt (legacy completions): sent as it is, with no prompt format (so no format stops and no BOS text)
   * and no tools; its `suffix` goes to a backend with fill-in-the-middle (the caller refuses it for the others).
   */
  async function prepareRawPrompt(call: ProviderCall, raw: RawPrompt, signal: AbortSignal): Promise<Prepared> {
    const params = samplingParams(call.body);
    const suffix = raw.suffix !== undefined && backend.fillsInTheMiddle ? { suffix: raw.suffix } : {};
    const counted = await countPrompt(raw.prompt + (raw.suffix ?? ""), params, signal);
    if (context.debug) {
      context.logger.debug(
        {
          provider: kind,
          target: backend.target,
          format: null,
          prompt: raw.prompt,
          ...suffix,
          params: redactSecrets(params),
        },
        "raw prompt",
      );
    }
    return {
      request: { prompt: raw.prompt, ...suffix, params, body: call.body, signal, requestId: call.requestId },
      ...counted,
      output: new ChatOutput(`chatcmpl-${call.requestId}`, call.body.model),
      reading: null,
      constrainedCall: null,
    };
  }

  /**
   * Counts a prompt (the backend's tokenizer, else an estimate) and checks it against the context window.
   * @throws RelayError 400 `context_length_exceeded` when prompt and `max_tokens` do not fit
   */
  async function countPrompt(
    prompt: string,
    params: SamplingParams,
    signal: AbortSignal,
  ): Promise<Pick<Prepared, "promptTokens" | "promptEstimated">> {
    const counted = backend.countTokens ? await backend.countTokens(prompt, signal).catch(() => null) : null;
    const promptTokens = counted ?? countTextTokens(prompt, EVENT_LOOP_COUNT_LIMIT_CHARS);
    const contextWindow = deployment.context_window ?? (await discover(signal)).contextWindow ?? null;
    assertFitsContextWindow({
      promptTokens,
      estimated: counted === null,
      maxTokens: params.maxTokens ?? 0,
      contextWindow,
    });
    return { promptTokens, promptEstimated: counted === null };
  }

  /** The reader of the answer's tool calls, or null when the answer is text. */
  function toolReader(prepared: Prepared): ToolOutputReader | null {
    if (!prepared.reading) return null;
    return new ToolOutputReader(prepared.reading.convention, prepared.reading.names, (problem, text) =>
      context.logger.warn(
        { provider: kind, target: backend.target, convention: prepared.reading!.convention.name, problem, text },
        "a tool call in the model's answer cannot be used; it is returned as text",
      ),
    );
  }

  /** The convention the answer is read with, for the record (`ProviderCompletion.toolConvention`); {} when none. */
  function conventionTag(prepared: Prepared): { toolConvention?: string } {
    return prepared.reading ? { toolConvention: prepared.reading.convention.name } : {};
  }

  function usageOf(prepared: Prepared, counts: Partial<RawCounts>, text: string): OutputUsage {
    const prompt = counts.promptTokens ?? null;
    const completion = counts.completionTokens ?? null;
    return {
      promptTokens: prompt ?? prepared.promptTokens,
      completionTokens: completion ?? countTextTokens(text, EVENT_LOOP_COUNT_LIMIT_CHARS),
      estimated: (prompt === null && prepared.promptEstimated) || completion === null,
    };
  }

  /** Rethrows a total-timeout abort as 504; everything else unchanged. */
  function mapAbort(error: unknown, signal: AbortSignal): unknown {
    if (isTotalTimeout(signal) && timeouts.totalMs !== null) return totalTimeoutError(backend.target, timeouts.totalMs);
    return error;
  }

  return {
    kind,
    fillInTheMiddle: backend.fillsInTheMiddle === true,

    async complete(call: ProviderCall): Promise<ProviderCompletion> {
      const signal = withTotalTimeout(call.signal, timeouts.totalMs);
      try {
        const prepared = await prepare(call, signal);
        const result = await backend.complete(prepared.request);
        if (context.debug)
          context.logger.debug({ provider: kind, target: backend.target, result }, "raw backend answer");
        const usage = usageOf(prepared, result, result.text);
        const constrained = prepared.constrainedCall && callOfConstrainedText(prepared.constrainedCall, result.text);
        if (constrained)
          return {
            ...prepared.output.completion({ content: null, toolCalls: [toolCallOf(constrained)] }, "tool_calls", usage),
            ...conventionTag(prepared),
          };
        const reader = toolReader(prepared);
        if (!reader) return prepared.output.completion({ content: result.text }, result.finishReason, usage);
        const events: ToolOutputEvent[] = [...reader.push(result.text), ...reader.end()];
        const content = events.map((event) => ("content" in event ? event.content : "")).join("");
        const toolCalls = events.flatMap((event) => ("call" in event ? [event.call] : []));
        const tag = conventionTag(prepared);
        if (toolCalls.length === 0)
          return { ...prepared.output.completion({ content }, result.finishReason, usage), ...tag };
        return {
          ...prepared.output.completion({ content: content.trim() || null, toolCalls }, "tool_calls", usage),
          ...tag,
        };
      } catch (error) {
        noteFailure(error);
        throw mapAbort(error, signal);
      } finally {
        releaseTotalTimeout(signal);
      }
    },

    stream(call: ProviderCall): AsyncIterable<ProviderStreamEvent> {
      return streamWithTotalTimeout(call.signal, timeouts.totalMs, (signal) => streamWithin(call, signal));
    },

    async close(): Promise<void> {
      await backend.close?.();
    },
  };

  /** The stream of one call, under `signal` (the call's, with the total timeout). */
  async function* streamWithin(call: ProviderCall, signal: AbortSignal): AsyncGenerator<ProviderStreamEvent> {
    let prepared: Prepared;
    try {
      prepared = await prepare(call, signal);
    } catch (error) {
      throw mapAbort(error, signal);
    }
    const { output } = prepared;
    const reader = toolReader(prepared);
    let callIndex = 0;
    /** The chunks of read tool-call events. */
    const chunksOf = (events: ToolOutputEvent[]): ProviderStreamEvent[] =>
      events.map((event) =>
        "content" in event ? output.text(event.content) : output.toolCall({ index: callIndex++, ...event.call }),
      );
    let text = "";
    let finished = false;
    let counts: Partial<RawCounts> = {};
    try {
      let started = false;
      for await (const delta of backend.stream(prepared.request)) {
        if (context.debug) context.logger.debug({ provider: kind, target: backend.target, delta }, "raw backend delta");
        if (!started) {
          started = true;
          yield { ...output.role(), ...conventionTag(prepared) };
        }
        if (delta.text) {
          text += delta.text;
          // A constrained call is JSON, read when it is complete (below).
          if (!prepared.constrainedCall) {
            if (reader) yield* chunksOf(reader.push(delta.text));
            else yield output.text(delta.text);
          }
        }
        if (delta.finishReason) {
          finished = true;
          counts = { promptTokens: delta.promptTokens ?? null, completionTokens: delta.completionTokens ?? null };
          if (prepared.constrainedCall) {
            const constrained = callOfConstrainedText(prepared.constrainedCall, text);
            if (constrained) {
              yield output.toolCall({ index: callIndex++, ...toolCallOf(constrained) });
              yield output.finish("tool_calls");
              break;
            }
            // Not a usable call after all (no grammar applied, cut at max_tokens): read as an unconstrained answer.
            if (reader) yield* chunksOf(reader.push(text));
            else yield output.text(text);
          }
          if (reader) yield* chunksOf(reader.end());
          yield output.finish(reader && reader.calls > 0 ? "tool_calls" : delta.finishReason);
          break;
        }
      }
    } catch (error) {
      noteFailure(error);
      throw mapAbort(error, signal);
    }
    if (!finished) {
      if (signal.aborted) throw mapAbort(signal.reason, signal);
      throw errors.upstreamTruncated(`The backend ${backend.target} ended the stream before the completion finished`);
    }
    if (call.body.stream_options?.include_usage) yield output.usage(usageOf(prepared, counts, text));
  }
}

/** Whether two discovered templates render alike (same source text and BOS/EOS). */
function sameTemplate(a: DiscoveredTemplate, b: DiscoveredTemplate | null): boolean {
  return (
    b !== null &&
    a.template === b.template &&
    (a.bosToken ?? null) === (b.bosToken ?? null) &&
    (a.eosToken ?? null) === (b.eosToken ?? null)
  );
}
