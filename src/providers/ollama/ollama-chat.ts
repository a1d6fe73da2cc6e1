/**
 * The `ollama` provider's chat mode: an OpenAI chat request becomes
 * `POST /api/chat` (docs/api.md, "Generate a chat completion"), and the
 * answer (one JSON object, or NDJSON lines when streaming) becomes
 * `chat.completion` / `chat.completion.chunk` objects; a thinking model's
 * `message.thinking` (docs/capabilities/thinking.mdx of github.com/ollama/ollama;
 * the request's `think` comes from the client's body or `extra_body`) becomes
 * `reasoning_content` on the message or its own deltas, before the answer's.
 * The prompt is
 * checked against the window sent as `options.num_ctx` before anything is
 * sent (counted with gpt-tokenizer: an estimate, flagged as such).
 */
import { errors } from "../../protocol/error-codes.js";
import type { Deployment } from "../../config/schema.js";
import type { ChatCompletionRequest } from "../../protocol/chat-request.js";
import { countRequestPromptTokens, countTextTokens, EVENT_LOOP_COUNT_LIMIT_CHARS } from "../../tokens/count.js";
import {
  isTotalTimeout,
  releaseTotalTimeout,
  streamWithTotalTimeout,
  totalTimeoutError,
  withTotalTimeout,
  type DeploymentTimeouts,
} from "../http/timeouts.js";
import { ChatOutput, type OutputUsage } from "../../protocol/chat-output.js";
import { assertFitsContextWindow } from "../raw/context-window.js";
import { samplingParams } from "../raw/sampling.js";
import type { ChatProvider, ProviderCall, ProviderCompletion, ProviderStreamEvent } from "../types.js";
import { ollamaObjects, postToOllama, readOllamaObject, type OllamaTransport } from "./ollama-http.js";
import { toOllamaMessages, toOpenAIToolCalls } from "./ollama-messages.js";
import { configuredNumCtx, resolveNumCtx } from "./ollama-model-info.js";
import { ollamaOptions, withExtraBody } from "./ollama-options.js";
import type { OllamaChatRequest, OllamaChatResponse, OllamaMetrics } from "./ollama-types.js";

/** A request ready to send, with its estimated prompt size. */
interface PreparedChat {
  body: OllamaChatRequest;
  /** gpt-tokenizer estimate of the prompt, in tokens. */
  promptTokens: number;
  output: ChatOutput;
}

/**
 * OpenAI `finish_reason` of an Ollama `done_reason`: `length` stays
 * `length`; anything else (`stop`, `load`, none) is `stop`, or
 * `tool_calls` when the answer called tools (as Ollama's own OpenAI layer does).
 */
export function ollamaFinishReason(
  doneReason: string | undefined,
  calledTools: boolean,
): "stop" | "length" | "tool_calls" {
  if (doneReason === "length") return "length";
  return calledTools ? "tool_calls" : "stop";
}

/** Ollama's `format` for an OpenAI `response_format`: `json_object` → `"json"`, `json_schema` → its schema. */
function ollamaFormat(responseFormat: unknown): unknown {
  if (!responseFormat || typeof responseFormat !== "object") return undefined;
  const format = responseFormat as { type?: unknown; json_schema?: { schema?: unknown } };
  if (format.type === "json_object") return "json";
  if (format.type === "json_schema") return format.json_schema?.schema;
  return undefined;
}

/** The usage of an answer: Ollama's counts where it gave them, else gpt-tokenizer's (flagged). */
function usageOf(metrics: OllamaMetrics, promptEstimate: number, outputText: string): OutputUsage {
  const prompt = metrics.prompt_eval_count;
  const completion = metrics.eval_count;
  return {
    promptTokens: prompt ?? promptEstimate,
    completionTokens: completion ?? countTextTokens(outputText, EVENT_LOOP_COUNT_LIMIT_CHARS),
    estimated: prompt === undefined || completion === undefined,
  };
}

/** A valid `think` value of `/api/chat`: a boolean, or a level (`low`, `medium`, `high`) for models that have levels. */
function isThink(value: unknown): value is boolean | string {
  return typeof value === "boolean" || value === "low" || value === "medium" || value === "high";
}

/** A chat answer carries its `message` object (Ollama's docs/api.md, "Generate a chat completion"). */
function hasMessage(object: Record<string, unknown>): boolean {
  return typeof object.message === "object" && object.message !== null && !Array.isArray(object.message);
}

/**
 * Creates the chat-mode provider.
 * @param transport the HTTP client, the /api/show cache and the provider context
 */
export function createOllamaChatProvider(
  deployment: Deployment,
  timeouts: DeploymentTimeouts,
  transport: OllamaTransport,
): ChatProvider {
  async function prepare(call: ProviderCall, stream: boolean, signal: AbortSignal): Promise<PreparedChat> {
    const body: ChatCompletionRequest = call.body;
    const model = body.model;
    const facts = configuredNumCtx(deployment) === null ? await transport.info.facts(model, signal) : null;
    const numCtx = resolveNumCtx(deployment, facts);
    const params = samplingParams(body);
    const raw = body as Record<string, unknown>;
    const tools = Array.isArray(raw.tools) && raw.tools.length > 0 ? (raw.tools as unknown[]) : undefined;
    const promptTokens = countRequestPromptTokens({ messages: body.messages, tools });
    assertFitsContextWindow({ promptTokens, estimated: true, maxTokens: params.maxTokens ?? 0, contextWindow: numCtx });
    const format = ollamaFormat(raw.response_format);
    const request = withExtraBody<OllamaChatRequest>(
      {
        model,
        messages: toOllamaMessages(body.messages),
        stream,
        options: ollamaOptions(params, numCtx, deployment, raw.options),
        ...(tools ? { tools } : {}),
        ...(format !== undefined ? { format } : {}),
        // Ollama's own switch for thinking models (true/false or a level), sent by clients as an extra body field.
        ...(isThink(raw.think) ? { think: raw.think } : {}),
      },
      deployment,
    );
    return { body: request, promptTokens, output: new ChatOutput(`chatcmpl-${call.requestId}`, model) };
  }

  function mapAbort(error: unknown, signal: AbortSignal): unknown {
    if (isTotalTimeout(signal) && timeouts.totalMs !== null)
      return totalTimeoutError(transport.client.origin, timeouts.totalMs);
    return error;
  }

  return {
    kind: "ollama",

    async complete(call: ProviderCall): Promise<ProviderCompletion> {
      const signal = withTotalTimeout(call.signal, timeouts.totalMs);
      try {
        const prepared = await prepare(call, false, signal);
        const response = await postToOllama(transport, "/api/chat", prepared.body, prepared.body.model, {
          signal,
          requestId: call.requestId,
        });
        const answer = await readOllamaObject<OllamaChatResponse>(transport, response, hasMessage);
        const text = answer.message?.content ?? "";
        const thinking = typeof answer.message?.thinking === "string" ? answer.message.thinking : "";
        const toolCalls = toOpenAIToolCalls(answer.message?.tool_calls ?? []);
        const outputText = thinking + text + toolCalls.map((c) => c.function.arguments).join("");
        return prepared.output.completion(
          { content: text === "" && toolCalls.length > 0 ? null : text, reasoning: thinking, toolCalls },
          ollamaFinishReason(answer.done_reason, toolCalls.length > 0),
          usageOf(answer, prepared.promptTokens, outputText),
        );
      } catch (error) {
        throw mapAbort(error, signal);
      } finally {
        releaseTotalTimeout(signal);
      }
    },

    stream(call: ProviderCall): AsyncIterable<ProviderStreamEvent> {
      return streamWithTotalTimeout(call.signal, timeouts.totalMs, (signal) => streamWithin(call, signal));
    },

    async close(): Promise<void> {
      await transport.client.close();
    },
  };

  /** The stream of one call, under `signal` (the call's, with the total timeout). */
  async function* streamWithin(call: ProviderCall, signal: AbortSignal): AsyncGenerator<ProviderStreamEvent> {
    let prepared: PreparedChat;
    let objects: AsyncGenerator<OllamaChatResponse>;
    try {
      prepared = await prepare(call, true, signal);
      const response = await postToOllama(transport, "/api/chat", prepared.body, prepared.body.model, {
        signal,
        requestId: call.requestId,
      });
      objects = ollamaObjects<OllamaChatResponse>(transport, response);
    } catch (error) {
      throw mapAbort(error, signal);
    }
    const { output } = prepared;
    let outputText = "";
    let toolCallCount = 0;
    let last: OllamaChatResponse | null = null;
    try {
      let started = false;
      for await (const object of objects) {
        if (last) continue; // read to the end after `done`, keeping the connection reusable
        if (!started) {
          started = true;
          yield output.role();
        }
        const thinking = object.message?.thinking;
        if (typeof thinking === "string" && thinking) {
          outputText += thinking;
          yield output.reasoning(thinking);
        }
        const content = object.message?.content;
        if (content) {
          outputText += content;
          yield output.text(content);
        }
        for (const call of toOpenAIToolCalls(object.message?.tool_calls ?? [])) {
          outputText += call.function.arguments;
          yield output.toolCall({ index: toolCallCount++, id: call.id, type: "function", function: call.function });
        }
        if (object.done) {
          last = object;
          yield output.finish(ollamaFinishReason(object.done_reason, toolCallCount > 0));
        }
      }
    } catch (error) {
      throw mapAbort(error, signal);
    }
    if (!last) {
      if (signal.aborted) throw mapAbort(signal.reason, signal);
      throw errors.upstreamTruncated(
        `The Ollama server ${transport.client.origin} ended the stream before the answer was done`,
      );
    }
    if (call.body.stream_options?.include_usage) yield output.usage(usageOf(last, prepared.promptTokens, outputText));
  }
}
