/**
 * text-generation-webui's legacy blocking API (`mode: legacy`; the `api`
 * extension, removed from webui in November 2023) as a {@link RawBackend}:
 * `POST /api/v1/generate` → `{"results": [{"text"}]}` and
 * `POST /api/v1/token-count`. The server (Python's http.server) answers
 * over HTTP/1.0 and closes each connection.
 *
 * It reports neither counts nor a finish reason: both are derived with its
 * token-count endpoint. Its streaming API was a websocket on another port
 * (5005); a streamed request is answered by completing once and yielding
 * the whole text as one delta.
 */
import type { Deployment } from "../../config/schema.js";
import { HttpBackend } from "../http/backend-client.js";
import type { RawBackend, RawDelta, RawRequest, RawResult } from "../raw/raw-backend.js";
import type { ProviderContext } from "../types.js";
import { legacyGenerateSchema, legacyTokenCountSchema } from "./webui-api.js";
import { answerLimit, grammarWarning, legacyBody, webuiBodyOptions } from "./webui-request.js";
import { gbnfOfConstraint } from "../raw/gbnf.js";
import { inferredFinishReason, invalidResponse } from "./webui-response.js";

/** One webui server, through its legacy `/api/v1/generate`. */
export class WebuiLegacyBackend extends HttpBackend implements RawBackend {
  /** webui encodes prompts with `add_bos_token` (default true). */
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
   * Counts `text` with `POST /api/v1/token-count`.
   * @throws RelayError when the server cannot answer (the caller then estimates)
   */
  async countTokens(text: string, signal: AbortSignal): Promise<number | null> {
    const answer = await this.client.postForJson<unknown>(
      "/api/v1/token-count",
      { prompt: text },
      { signal, timeoutMs: this.sideCallMs },
    );
    const parsed = legacyTokenCountSchema.safeParse(answer);
    return parsed.success ? parsed.data.results[0]!.tokens : null;
  }

  /** `POST /api/v1/generate`; both counts from `/api/v1/token-count`, the finish reason by webui's own rule. */
  async complete(request: RawRequest): Promise<RawResult> {
    const options = webuiBodyOptions(this.deployment);
    const window = options.contextWindow;
    const grammar = await gbnfOfConstraint(request.constraint, grammarWarning(this.context, this.target));
    const body = legacyBody(request.prompt, request.params, options, grammar);
    const answer = await this.client.postForJson<unknown>("/api/v1/generate", body, {
      signal: request.signal,
      headers: { "x-request-id": request.requestId },
    });
    const parsed = legacyGenerateSchema.safeParse(answer);
    if (!parsed.success) throw invalidResponse(this.target, JSON.stringify(answer));
    const text = parsed.data.results[0]!.text;
    // The prompt was counted before sending (the caller keeps that count); it is counted again only for the window rule.
    const [promptTokens, completionTokens] = await Promise.all([
      window === null ? Promise.resolve(null) : this.countTokens(request.prompt, request.signal).catch(() => null),
      text === "" ? Promise.resolve(0) : this.countTokens(text, request.signal).catch(() => null),
    ]);
    const limit = answerLimit(request.params, options);
    const maxNewTokens = limit.auto ? null : limit.maxTokens;
    return {
      text,
      finishReason: inferredFinishReason(promptTokens, completionTokens, maxNewTokens, window),
      promptTokens,
      completionTokens,
    };
  }

  /** One blocking completion, yielded as a single delta carrying the finish reason and counts. */
  async *stream(request: RawRequest): AsyncIterable<RawDelta> {
    const result = await this.complete(request);
    yield {
      ...(result.text ? { text: result.text } : {}),
      finishReason: result.finishReason,
      promptTokens: result.promptTokens,
      completionTokens: result.completionTokens,
    };
  }
}
