/**
 * LM Studio's `legacy` mode: a {@link RawBackend} over its OpenAI-compatible
 * `POST /v1/completions` ("Completions (Legacy)",
 * https://lmstudio.ai/docs/developer/openai-compat/completions; shapes of
 * OpenAI's Completions API, https://platform.openai.com/docs/api-reference/completions):
 * `{model, prompt, max_tokens, stop, …}` → `choices[0].text`,
 * `finish_reason` (`stop`, `length`), `usage`. Streaming is SSE: one
 * `text_completion` object per event, the usage in a last `choices: []`
 * event when `stream_options.include_usage` is set, then `data: [DONE]`.
 * Supported parameters (LM Studio docs): `top_p`, `top_k`, `temperature`,
 * `max_tokens`, `stop`, `presence_penalty`, `frequency_penalty`,
 * `repeat_penalty`, `seed`.
 *
 * No constrained decoding (`raw/constrained.ts`): LM Studio documents
 * structured output (a JSON schema in `response_format`) for
 * `/v1/chat/completions` only (https://lmstudio.ai/docs/advanced/structured-output),
 * and neither a grammar nor a schema for `/v1/completions`. So the backend
 * does not declare `constrainsOutput`: a required call or a JSON
 * `response_format` relies on the prompt alone, and the answer is read and
 * checked by the tool convention (a call that cannot be used comes back as
 * text).
 */
import type { Deployment } from "../../config/schema.js";
import { upstreamInvalidResponse } from "../../protocol/errors.js";
import { sseData } from "../../protocol/sse-data.js";
import type { UpstreamClient } from "../http/upstream-client.js";
import { upstreamHttpError } from "../../protocol/upstream-errors.js";
import type { RawBackend, RawDelta, RawFinishReason, RawRequest, RawResult } from "../raw/raw-backend.js";
import type { SamplingParams } from "../raw/sampling.js";
import type { ProviderContext } from "../types.js";
import { LMSTUDIO_DISCOVERY_TIMEOUT_MS, lmStudioContextLength } from "./lmstudio-models.js";

/** A `text_completion` object (a whole answer, or one stream event). */
interface TextCompletion {
  choices?: { text?: string; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: unknown;
}

/** The body of `POST /v1/completions` for `params`. */
export function completionsBody(
  model: string,
  prompt: string,
  params: SamplingParams,
  stream: boolean,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const body: Record<string, unknown> = { ...extra, model, prompt, stream };
  if (params.maxTokens !== null) body.max_tokens = params.maxTokens;
  if (params.temperature !== undefined) body.temperature = params.temperature;
  if (params.topP !== undefined) body.top_p = params.topP;
  if (params.topK !== undefined) body.top_k = params.topK;
  if (params.seed !== undefined) body.seed = params.seed;
  if (params.presencePenalty !== undefined) body.presence_penalty = params.presencePenalty;
  if (params.frequencyPenalty !== undefined) body.frequency_penalty = params.frequencyPenalty;
  if (params.repeatPenalty !== undefined) body.repeat_penalty = params.repeatPenalty;
  if (params.stop.length > 0) body.stop = params.stop;
  if (stream) body.stream_options = { include_usage: true };
  return body;
}

function finishReason(reason: string | null | undefined): RawFinishReason {
  return reason === "length" ? "length" : "stop";
}

function count(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : null;
}

function parseEvent(data: string, origin: string): TextCompletion {
  let parsed: TextCompletion;
  try {
    parsed = JSON.parse(data) as TextCompletion;
  } catch {
    throw upstreamInvalidResponse(`LM Studio ${origin} sent invalid JSON`, data);
  }
  if (parsed && typeof parsed === "object" && parsed.error) throw upstreamHttpError(502, data);
  if (!isTextCompletion(parsed))
    throw upstreamInvalidResponse(`LM Studio ${origin} sent an event that is not a text_completion`, data);
  return parsed;
}

/** An object whose `choices`, when present, is an array of objects (what the backend reads). */
function isTextCompletion(value: unknown): value is TextCompletion {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const choices = (value as TextCompletion).choices;
  return choices === undefined || (Array.isArray(choices) && choices.every((c) => typeof c === "object" && c !== null));
}

/**
 * Creates the backend.
 * @param client HTTP access to the server root (`/v1/completions` and `/api/v0/models/…` live under it)
 * @param apiPrefix the OpenAI API prefix (`/v1`)
 */
export function createLmStudioCompletionsBackend(
  deployment: Deployment,
  context: ProviderContext,
  client: UpstreamClient,
  apiPrefix: string,
  discoveryTimeoutMs: number = LMSTUDIO_DISCOVERY_TIMEOUT_MS,
): RawBackend {
  const path = `${apiPrefix}/completions`;
  const extra = { ...(deployment.extra_body ?? {}) };

  function debug(payload: unknown, what: string): void {
    if (context.debug) context.logger.debug({ provider: "lmstudio", target: client.origin, payload }, what);
  }

  async function send(request: RawRequest, stream: boolean) {
    const body = completionsBody(request.body.model, request.prompt, request.params, stream, extra);
    debug(body, "raw backend request");
    return client.postJson(path, body, {
      signal: request.signal,
      headers: { "x-request-id": request.requestId },
      accept: stream ? "text/event-stream" : "application/json",
    });
  }

  return {
    target: client.origin,
    // LM Studio's llama.cpp engine adds the model's BOS token when it tokenizes the prompt.
    addsBos: true,

    /** Rejects when LM Studio could not be asked (so the caller asks again next time). */
    async discover(signal) {
      const model = deployment.model;
      return {
        contextWindow:
          model === undefined ? null : await lmStudioContextLength(client, model, signal, discoveryTimeoutMs),
      };
    },

    async complete(request: RawRequest): Promise<RawResult> {
      const answer = await client.readJson<TextCompletion>(await send(request, false));
      debug(answer, "raw backend answer");
      if (answer && typeof answer === "object" && answer.error) throw upstreamHttpError(502, JSON.stringify(answer));
      if (!isTextCompletion(answer) || typeof answer.choices?.[0]?.text !== "string") {
        throw upstreamInvalidResponse(
          `LM Studio ${client.origin} sent an answer that is not a text_completion`,
          JSON.stringify(answer),
        );
      }
      const choice = answer.choices[0];
      return {
        text: choice?.text ?? "",
        finishReason: finishReason(choice?.finish_reason),
        promptTokens: count(answer.usage?.prompt_tokens),
        completionTokens: count(answer.usage?.completion_tokens),
      };
    },

    async *stream(request: RawRequest): AsyncIterable<RawDelta> {
      const response = await send(request, true);
      let finish: RawFinishReason | null = null;
      let usage: TextCompletion["usage"] = null;
      try {
        for await (const data of sseData(response.body)) {
          debug(data, "raw backend event");
          if (data === "[DONE]") break;
          const event = parseEvent(data, client.origin);
          if (event.usage) usage = event.usage;
          const choice = event.choices?.[0];
          if (choice?.text) yield { text: choice.text };
          if (choice?.finish_reason) finish = finishReason(choice.finish_reason);
        }
      } catch (error) {
        throw client.mapError(error);
      } finally {
        if (!response.body.destroyed) response.body.destroy();
      }
      // The finish reason comes before the usage event, so it is reported once the stream is over.
      if (finish !== null)
        yield {
          finishReason: finish,
          promptTokens: count(usage?.prompt_tokens),
          completionTokens: count(usage?.completion_tokens),
        };
    },

    async close(): Promise<void> {
      await client.close();
    },
  };
}
