/**
 * KoboldCpp's KoboldAI-style API as a {@link RawBackend} (koboldcpp.py,
 * version 1.76): `POST /api/v1/generate` (one answer), `POST
 * /api/extra/generate/stream` (SSE `event: message` with `{"token",
 * "finish_reason"}`), `GET /api/extra/true_max_context_length` (the
 * window), `POST /api/extra/tokencount` (counts), `GET /api/v1/model`.
 *
 * KoboldCpp answers over HTTP/1.0: a stream has no Content-Length and ends
 * when the server closes the connection, its `finish_reason` is the string
 * `"null"` until the last event, and it reports no token counts, so both
 * counts come from `/api/extra/tokencount` (its `/v1` usage is a fixed 100/100).
 * A generation ended by a stop sequence is reported as `length`; `GET
 * /api/extra/perf` (`stop_reason`) tells it apart.
 */
import type { Deployment } from "../../config/schema.js";
import { RelayError } from "../../protocol/errors.js";
import { sseData } from "../../protocol/sse-data.js";
import { HttpBackend } from "../http/backend-client.js";
import type { UpstreamResponse } from "../http/upstream-client.js";
import type { RawBackend, RawDelta, RawDiscovery, RawFinishReason, RawRequest, RawResult } from "../raw/raw-backend.js";
import type { ProviderContext } from "../types.js";
import {
  generateResultSchema,
  perfSchema,
  STOP_REASON_CUSTOM_STOPPER,
  STOP_REASON_EOS,
  tokenCountSchema,
  valueSchema,
} from "./koboldcpp-api.js";
import { generateBody } from "./koboldcpp-request.js";
import { gbnfOfConstraint } from "../raw/gbnf.js";
import { endsAtStop, finishReason, invalidResponse, parseStreamEvent } from "./koboldcpp-response.js";

/** One KoboldCpp server. */
export class KoboldCppBackend extends HttpBackend implements RawBackend {
  /** KoboldCpp adds BOS when it tokenizes the prompt (tokencount's `ids` start with it). */
  readonly addsBos = true;
  /** A constraint is sent as GBNF in `grammar` (`raw/gbnf.ts`; see `koboldcpp-request.ts`). */
  readonly constrainsOutput = true;
  /** The window learnt by {@link discover}, sent as `max_context_length`. */
  private discoveredWindow: number | null = null;

  /**
   * @param deployment `base_url` is the server's root (`http://127.0.0.1:5001`); `api_key_env` names the `--password`
   * @throws RelayError 500 when `base_url` is missing
   */
  constructor(
    private readonly deployment: Deployment,
    private readonly context: ProviderContext,
  ) {
    super(deployment, context);
  }

  /**
   * The window from `GET /api/extra/true_max_context_length` (falling back to
   * `/api/v1/config/max_context_length` on servers without it); the model
   * name from `GET /api/v1/model` goes to the debug log. KoboldCpp has no
   * chat template endpoint.
   * @throws RelayError when the server cannot answer now, so the caller tries again on its next call
   */
  async discover(signal: AbortSignal): Promise<RawDiscovery> {
    const options = { signal, timeoutMs: this.sideCallMs };
    const answer = await this.client
      .getJson<unknown>("/api/extra/true_max_context_length", options)
      .catch((error: unknown) => {
        if (error instanceof RelayError && error.status === 404)
          return this.client.getJson<unknown>("/api/v1/config/max_context_length", options);
        throw error;
      });
    const parsed = valueSchema.safeParse(answer);
    this.discoveredWindow = parsed.success && parsed.data.value > 0 ? parsed.data.value : null;
    if (this.context.debug) {
      const model = await this.client.getJson<unknown>("/api/v1/model", options).catch(() => null);
      this.context.logger.debug(
        { provider: "koboldcpp", target: this.target, model, contextWindow: this.discoveredWindow },
        "koboldcpp model",
      );
    }
    return { contextWindow: this.discoveredWindow };
  }

  /**
   * Counts the prompt with `POST /api/extra/tokencount` (BOS included, as in generation).
   * @throws RelayError when the server cannot answer (the caller then estimates)
   */
  countTokens(prompt: string, signal: AbortSignal): Promise<number | null> {
    return this.tokenCount(prompt, true, signal);
  }

  /** `POST /api/v1/generate`; the answer's tokens are counted with `/api/extra/tokencount`. */
  async complete(request: RawRequest): Promise<RawResult> {
    const response = await this.post("/api/v1/generate", request, "application/json");
    const answer = await this.client.readJson<unknown>(response);
    const parsed = generateResultSchema.safeParse(answer);
    if (!parsed.success) throw invalidResponse(this.target, JSON.stringify(answer));
    const result = parsed.data.results[0]!;
    const completionTokens = await this.countAnswer(result.text, request.signal);
    return {
      text: result.text,
      finishReason: await this.stopOrLength(
        finishReason(result.finish_reason) ?? "stop",
        result.text,
        completionTokens,
        request,
      ),
      promptTokens: null,
      completionTokens,
    };
  }

  /**
   * `POST /api/extra/generate/stream`. The stream ends when KoboldCpp closes
   * the connection; one that closes before an event with a real
   * `finish_reason` is truncated (the caller reports it).
   */
  async *stream(request: RawRequest): AsyncIterable<RawDelta> {
    const response = await this.post("/api/extra/generate/stream", request, "text/event-stream");
    let text = "";
    try {
      for await (const data of sseData(response.body)) {
        const event = parseStreamEvent(data, this.target);
        const finish = finishReason(event.finish_reason);
        text += event.token;
        if (!finish) {
          if (event.token) yield { text: event.token };
          continue;
        }
        const completionTokens = await this.countAnswer(text, request.signal);
        const reason = await this.stopOrLength(finish, text, completionTokens, request);
        yield {
          ...(event.token ? { text: event.token } : {}),
          finishReason: reason,
          promptTokens: null,
          completionTokens,
        };
        return;
      }
    } catch (error) {
      throw this.client.mapError(error);
    } finally {
      if (!response.body.destroyed) response.body.destroy();
    }
  }

  /**
   * The finish reason of a generation KoboldCpp reported as `length`, which
   * it also reports for one ended by a stop sequence: `stop` when the text
   * ends at one of the request's stop sequences, else — unless the answer
   * already holds `max_length` tokens, or there are no stop sequences —
   * when `GET /api/extra/perf` says the last generation stopped on a stop
   * sequence (`stop_reason` 2) or EOS (1). Any other reported reason, or a
   * perf call that fails, stands as reported.
   * @param completionTokens the answer's tokens by `/api/extra/tokencount`, or null when not counted
   */
  private async stopOrLength(
    reported: RawFinishReason,
    text: string,
    completionTokens: number | null,
    request: RawRequest,
  ): Promise<RawFinishReason> {
    if (reported !== "length" || request.params.stop.length === 0) return reported;
    if (endsAtStop(text, request.params.stop)) return "stop";
    const maxLength = this.maxLength(request);
    if (completionTokens !== null && maxLength !== null && completionTokens >= maxLength) return "length";
    try {
      const perf = perfSchema.safeParse(
        await this.client.getJson<unknown>("/api/extra/perf", { signal: request.signal, timeoutMs: this.sideCallMs }),
      );
      if (!perf.success) return reported;
      const reason = perf.data.stop_reason;
      return reason === STOP_REASON_CUSTOM_STOPPER || reason === STOP_REASON_EOS ? "stop" : reported;
    } catch {
      return reported;
    }
  }

  /** The `max_length` sent: the client's `max_tokens`, else the deployment's `max_output_tokens`; null when KoboldCpp's default applies. */
  private maxLength(request: RawRequest): number | null {
    return request.params.maxTokens ?? this.deployment.max_output_tokens ?? null;
  }

  private async post(path: string, request: RawRequest, accept: string): Promise<UpstreamResponse> {
    const window = this.deployment.context_window ?? this.discoveredWindow;
    const grammar = await gbnfOfConstraint(request.constraint, (reason) =>
      this.context.logger.warn(
        { provider: "koboldcpp", target: this.target, reason },
        "no grammar for this constrained request; the answer is generated from the prompt alone",
      ),
    );
    const body = generateBody(request.prompt, request.params, {
      contextWindow: window,
      defaultMaxLength: this.deployment.max_output_tokens ?? null,
      extraBody: this.deployment.extra_body,
      grammar,
    });
    return this.client.postJson(path, body, {
      signal: request.signal,
      accept,
      headers: { "x-request-id": request.requestId },
    });
  }

  private async tokenCount(text: string, special: boolean, signal: AbortSignal): Promise<number | null> {
    const answer = await this.client.postForJson<unknown>(
      "/api/extra/tokencount",
      { prompt: text, special },
      { signal, timeoutMs: this.sideCallMs },
    );
    const parsed = tokenCountSchema.safeParse(answer);
    return parsed.success ? parsed.data.value : null;
  }

  /** Tokens of the answer (no BOS), or null when KoboldCpp cannot count now (the caller estimates). */
  private countAnswer(text: string, signal: AbortSignal): Promise<number | null> {
    return text === "" ? Promise.resolve(0) : this.tokenCount(text, false, signal).catch(() => null);
  }
}
