/**
 * llama.cpp `llama-server`'s native API as a {@link RawBackend}
 * (tools/server/README.md): `POST /completion` completes the rendered
 * prompt (an SSE stream of `data:` events ending with a `stop: true` event
 * and no `[DONE]`), `POST /infill` the middle between a prefix and a suffix (same answer shape), `GET /props` gives `n_ctx` and the chat template,
 * `POST /tokenize` counts the prompt, `GET /health` tells a loading server
 * (503 "Loading model") from other failures.
 */
import { relayedUpstreamError } from "../../protocol/error-codes.js";
import type { Deployment } from "../../config/schema.js";
import { RelayError } from "../../protocol/errors.js";
import { sseData } from "../../protocol/sse-data.js";
import { HttpBackend } from "../http/backend-client.js";
import type { UpstreamResponse } from "../http/upstream-client.js";
import { upstreamHttpError } from "../../protocol/upstream-errors.js";
import type { RawBackend, RawDelta, RawDiscovery, RawRequest, RawResult } from "../raw/raw-backend.js";
import type { ProviderContext } from "../types.js";
import { propsSchema, tokenizeSchema, type LlamaCppCompletionEvent } from "./llamacpp-api.js";
import { completionBody, infillBody } from "./llamacpp-request.js";
import {
  counts,
  discoveryFromProps,
  finishReason,
  parseCompletionAnswer,
  parseCompletionEvent,
} from "./llamacpp-response.js";

/** One llama-server, reached over a keep-alive pool. */
export class LlamaCppBackend extends HttpBackend implements RawBackend {
  /** llama-server tokenizes prompts with `add_special`, so it adds BOS itself. */
  readonly addsBos = true;
  /** `/completion` takes `json_schema`. */
  readonly constrainsOutput = true;
  /** `/infill` completes between a prefix and a suffix with the model's FIM tokens. */
  readonly fillsInTheMiddle = true;

  /**
   * @param deployment `base_url` is the server's root (`http://127.0.0.1:8080`); `api_key_env` names the `--api-key`
   * @throws RelayError 500 when `base_url` is missing
   */
  constructor(
    private readonly deployment: Deployment,
    private readonly context: ProviderContext,
  ) {
    super(deployment, context);
  }

  /**
   * Reads `GET /props`.
   * @throws RelayError when the server cannot answer now (loading, down), so the caller tries again on its next call
   */
  async discover(signal: AbortSignal): Promise<RawDiscovery> {
    const parsed = propsSchema.safeParse(
      await this.client.getJson<unknown>("/props", { signal, timeoutMs: this.sideCallMs }),
    );
    return parsed.success ? discoveryFromProps(parsed.data) : {};
  }

  /**
   * Counts the prompt with `POST /tokenize` (`add_special: true`, so BOS is
   * counted as in generation).
   * @throws RelayError when the server cannot answer (the caller then estimates)
   */
  async countTokens(prompt: string, signal: AbortSignal): Promise<number | null> {
    const answer = await this.client.postForJson<unknown>(
      "/tokenize",
      { content: prompt, add_special: true },
      { signal, timeoutMs: this.sideCallMs },
    );
    const parsed = tokenizeSchema.safeParse(answer);
    return parsed.success ? parsed.data.tokens.length : null;
  }

  /** `POST /completion` with `stream: false`. */
  async complete(request: RawRequest): Promise<RawResult> {
    const response = await this.send(request, false);
    const event = parseCompletionAnswer(await this.client.readJson<unknown>(response), this.target);
    this.logTimings(event);
    return { text: event.content, finishReason: finishReason(event), ...counts(event) };
  }

  /**
   * `POST /completion` with `stream: true`. The `stop: true` event is
   * yielded after the body ended (the server ends it right away), so the
   * keep-alive connection stays reusable.
   */
  async *stream(request: RawRequest): AsyncIterable<RawDelta> {
    const response = await this.send(request, true);
    let final: RawDelta | null = null;
    try {
      for await (const data of sseData(response.body)) {
        if (final) continue;
        const event = parseCompletionEvent(data, this.target);
        if (event.error !== undefined) throw upstreamHttpError(502, data);
        if (!event.stop) {
          if (event.content) yield { text: event.content };
          continue;
        }
        this.logTimings(event);
        final = {
          ...(event.content ? { text: event.content } : {}),
          finishReason: finishReason(event),
          ...counts(event),
        };
      }
    } catch (error) {
      if (!final) throw this.client.mapError(error);
    } finally {
      if (!response.body.destroyed) response.body.destroy();
    }
    if (final) yield final;
  }

  /** `POST /completion`, or `POST /infill` for a request with a suffix (same answer and stream shapes). */
  private async send(request: RawRequest, stream: boolean): Promise<UpstreamResponse> {
    const { suffix } = request;
    const body =
      suffix !== undefined
        ? infillBody(request.prompt, suffix, request.params, stream, this.deployment.extra_body)
        : completionBody(
            request.prompt,
            request.params,
            stream,
            this.deployment.extra_body,
            request.constraint ?? null,
          );
    try {
      return await this.client.postJson(suffix !== undefined ? "/infill" : "/completion", body, {
        signal: request.signal,
        accept: stream ? "text/event-stream" : "application/json",
        headers: { "x-request-id": request.requestId },
      });
    } catch (error) {
      throw await this.explainUnavailable(error, request.signal);
    }
  }

  /**
   * A 503 from llama-server is checked against `GET /health`: while the
   * model loads, the error says so plainly; otherwise the original error stands.
   */
  private async explainUnavailable(error: unknown, signal: AbortSignal): Promise<unknown> {
    if (!(error instanceof RelayError) || error.status !== 503) return error;
    try {
      await this.client.getJson<unknown>("/health", { signal, timeoutMs: this.sideCallMs });
      return error;
    } catch (health) {
      if (!(health instanceof RelayError) || health.status !== 503) return error;
      return relayedUpstreamError({
        status: 503,
        message: `The llama.cpp server ${this.target} is still loading its model (GET /health: ${health.message}); try again shortly`,
        type: health.type,
        code: null,
        headers: health.headers,
      });
    }
  }

  private logTimings(event: LlamaCppCompletionEvent): void {
    if (!this.context.debug) return;
    this.context.logger.debug(
      {
        provider: "llamacpp",
        target: this.target,
        tokens_evaluated: event.tokens_evaluated,
        tokens_predicted: event.tokens_predicted,
        stop_type: event.stop_type,
        timings: event.timings,
      },
      "llama.cpp completion timings",
    );
  }
}
