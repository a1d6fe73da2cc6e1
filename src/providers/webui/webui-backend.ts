/**
 * text-generation-webui's OpenAI-compatible completions API (`--api`) as a
 * {@link RawBackend}: `POST /v1/completions` completes the rendered prompt
 * (SSE `data:` chunks ending with `data: [DONE]` when streaming), and
 * `POST /v1/internal/token-count` counts it with the model's tokenizer.
 * webui exposes no context window: it comes from the deployment's
 * `context_window` and is sent as `truncation_length`.
 */
import type { Deployment } from "../../config/schema.js";
import { sseData } from "../../protocol/sse-data.js";
import { HttpBackend } from "../http/backend-client.js";
import type { UpstreamResponse } from "../http/upstream-client.js";
import type { RawBackend, RawDelta, RawFinishReason, RawRequest, RawResult } from "../raw/raw-backend.js";
import type { ProviderContext } from "../types.js";
import { tokenCountSchema } from "./webui-api.js";
import { completionsBody, grammarWarning, webuiBodyOptions } from "./webui-request.js";
import { gbnfOfConstraint } from "../raw/gbnf.js";
import { finishReason, parseCompletion } from "./webui-response.js";

/** One webui server, through its `/v1/completions`. */
export class WebuiCompletionsBackend extends HttpBackend implements RawBackend {
  /** webui encodes prompts with `add_bos_token` (default true), so it adds BOS itself. */
  readonly addsBos = true;
  /** A constraint is sent as GBNF in `grammar_string` (`raw/gbnf.ts`; see `webui-request.ts`). */
  readonly constrainsOutput = true;

  /** @throws RelayError 500 when `base_url` is missing */
  constructor(
    private readonly deployment: Deployment,
    private readonly context: ProviderContext,
  ) {
    super(deployment, context);
  }

  /**
   * Counts the prompt with `POST /v1/internal/token-count`.
   * @throws RelayError when the server cannot answer (the caller then estimates)
   */
  async countTokens(prompt: string, signal: AbortSignal): Promise<number | null> {
    const answer = await this.client.postForJson<unknown>(
      "/v1/internal/token-count",
      { text: prompt },
      { signal, timeoutMs: this.sideCallMs },
    );
    const parsed = tokenCountSchema.safeParse(answer);
    return parsed.success ? parsed.data.length : null;
  }

  /** `POST /v1/completions` with `stream: false`; counts from its `usage`. */
  async complete(request: RawRequest): Promise<RawResult> {
    const response = await this.post(request, false);
    const completion = parseCompletion(await this.client.readJson<unknown>(response), this.target);
    const choice = completion.choices[0];
    return {
      text: choice?.text ?? "",
      finishReason: finishReason(choice?.finish_reason) ?? "stop",
      promptTokens: completion.usage?.prompt_tokens ?? null,
      completionTokens: completion.usage?.completion_tokens ?? null,
    };
  }

  /**
   * `POST /v1/completions` with `stream: true`. The finish is yielded after
   * `[DONE]`, with the usage of the finish chunk or of the usage-only chunk
   * that follows it.
   */
  async *stream(request: RawRequest): AsyncIterable<RawDelta> {
    const response = await this.post(request, true);
    let finish: RawFinishReason | null = null;
    let usage: { prompt_tokens: number; completion_tokens: number } | null = null;
    let done = false;
    try {
      for await (const data of sseData(response.body)) {
        if (done) continue;
        if (data === "[DONE]") {
          done = true;
          continue;
        }
        const chunk = parseCompletion(data, this.target);
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices[0];
        if (!choice || finish) continue;
        if (choice.text) yield { text: choice.text };
        finish = finishReason(choice.finish_reason);
      }
    } catch (error) {
      if (!finish) throw this.client.mapError(error);
    } finally {
      if (!response.body.destroyed) response.body.destroy();
    }
    if (finish)
      yield {
        finishReason: finish,
        promptTokens: usage?.prompt_tokens ?? null,
        completionTokens: usage?.completion_tokens ?? null,
      };
  }

  private async post(request: RawRequest, stream: boolean): Promise<UpstreamResponse> {
    const grammar = await gbnfOfConstraint(request.constraint, grammarWarning(this.context, this.target));
    const body = completionsBody(request.prompt, request.params, stream, webuiBodyOptions(this.deployment), grammar);
    return this.client.postJson("/v1/completions", body, {
      signal: request.signal,
      accept: stream ? "text/event-stream" : "application/json",
      headers: { "x-request-id": request.requestId },
    });
  }
}
