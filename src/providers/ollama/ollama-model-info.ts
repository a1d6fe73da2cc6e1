/**
 * What the `ollama` provider learns about a model from `POST /api/show`
 * (docs/api.md, "Show Model Information"), and the context window it
 * loads the model with (`options.num_ctx`, always sent).
 *
 * Why always: without `num_ctx` Ollama uses its own default (2048 on old
 * servers, 4096 or a VRAM-based size on newer ones, or the Modelfile's
 * `PARAMETER num_ctx`) and silently cuts a longer prompt from the front,
 * dropping the system prompt. The proxy sends the window it checks the
 * prompt against, so a prompt either fits or is refused with 400
 * `context_length_exceeded`; nothing is truncated silently.
 *
 * The window, first match wins:
 * 1. the deployment's `context_window`;
 * 2. `extra_body.options.num_ctx` of the deployment;
 * 3. the Modelfile's `PARAMETER num_ctx` (`parameters` of /api/show): the model's own configured default;
 * 4. the model's trained context (`model_info["<arch>.context_length"]`), capped at {@link DEFAULT_NUM_CTX}:
 *    Ollama allocates the KV cache for the whole window when it loads the model, and the trained
 *    maximum (131072 for Llama 3.x) would need many GB; set `context_window` to go higher;
 * 5. {@link DEFAULT_NUM_CTX} when /api/show gives nothing.
 */
import type { Deployment } from "../../config/schema.js";
import type { DiscoveredTemplate } from "../../prompt-formats/types.js";
import type { UpstreamClient } from "../http/upstream-client.js";
import { DISCOVERY_TTL_MS, DiscoveryCache, monotonicClock, type Clock } from "../raw/discovery-cache.js";
import type { OllamaShowResponse, OllamaTagsResponse } from "./ollama-types.js";

/** The window used when neither the config nor the model says otherwise, and the cap on a trained context, in tokens. */
export const DEFAULT_NUM_CTX = 8192;

/** Longest wait for a discovery call (`/api/show`, `/api/tags`), in ms. */
export const DISCOVERY_TIMEOUT_MS = 15_000;

/** What /api/show told about one model. */
export interface OllamaModelFacts {
  /** The trained context length, in tokens, or null. */
  trainedContext: number | null;
  /** The Modelfile's `PARAMETER num_ctx`, or null. */
  modelfileNumCtx: number | null;
  /** The model's Jinja chat template, or null when the server gave a Go template (or none). */
  template: DiscoveredTemplate | null;
}

/**
 * Whether `template` is a Jinja chat template (as newer Ollama servers return
 * for models they run with the GGUF `tokenizer.chat_template`) rather than an
 * Ollama Go template (`{{ .System }}`, `{{ range .Messages }}`).
 */
export function isJinjaTemplate(template: string): boolean {
  return /\{%-?/.test(template) && !/\{\{-?\s*\./.test(template);
}

/** Reads the facts out of an /api/show answer. */
export function parseShowResponse(show: OllamaShowResponse): OllamaModelFacts {
  const info = show.model_info ?? {};
  const arch = info["general.architecture"];
  const trained = typeof arch === "string" ? info[`${arch}.context_length`] : undefined;
  const numCtx = /^num_ctx\s+(\d+)\s*$/m.exec(show.parameters ?? "");
  const template = typeof show.template === "string" && isJinjaTemplate(show.template) ? show.template : null;
  return {
    trainedContext: positiveInt(trained),
    modelfileNumCtx: numCtx ? positiveInt(Number(numCtx[1])) : null,
    template: template === null ? null : { template, source: "ollama /api/show", bosToken: null, eosToken: null },
  };
}

/** The deployment's own window: `context_window`, else `extra_body.options.num_ctx`; null when it sets none. */
export function configuredNumCtx(deployment: Deployment): number | null {
  if (deployment.context_window !== undefined) return deployment.context_window;
  const options = deployment.extra_body?.options;
  if (options && typeof options === "object") return positiveInt((options as Record<string, unknown>).num_ctx);
  return null;
}

/**
 * The `num_ctx` to send, in tokens (see the module comment for the order).
 * @param facts what /api/show said, or null when it could not be asked
 */
export function resolveNumCtx(deployment: Deployment, facts: OllamaModelFacts | null): number {
  const configured = configuredNumCtx(deployment);
  if (configured !== null) return configured;
  if (facts?.modelfileNumCtx) return facts.modelfileNumCtx;
  if (facts?.trainedContext) return Math.min(facts.trainedContext, DEFAULT_NUM_CTX);
  return DEFAULT_NUM_CTX;
}

/**
 * /api/show answers per model name, each kept for a TTL (60 s by default:
 * a model re-created with another `num_ctx` is seen within it) and dropped by
 * {@link invalidate}. A failed call (server down, model not pulled) is not
 * kept, so the next request asks again.
 */
export class OllamaModelInfo {
  private readonly cache: DiscoveryCache<string, OllamaModelFacts | null>;

  /**
   * @param timeoutMs longest wait for a discovery call, in ms
   * @param ttlMs how long an answer is used, in ms (the deployment's `context_window_ttl_ms`)
   * @param now the clock of the TTL (ms)
   */
  constructor(
    private readonly client: UpstreamClient,
    private readonly timeoutMs: number,
    ttlMs: number = DISCOVERY_TTL_MS,
    now: Clock = monotonicClock,
  ) {
    this.cache = new DiscoveryCache(ttlMs, now);
  }

  /**
   * The facts about `model`, or null when /api/show failed (never rejects).
   * @param signal aborts the call (client gone)
   */
  facts(model: string, signal: AbortSignal): Promise<OllamaModelFacts | null> {
    return this.cache
      .get(model, () =>
        this.client
          .postForJson<OllamaShowResponse>("/api/show", { model }, { signal, timeoutMs: this.timeoutMs })
          .then(parseShowResponse),
      )
      .catch(() => null);
  }

  /** Forgets what /api/show said (about `model`, or every model): the next request asks again. */
  invalidate(model?: string): void {
    this.cache.invalidate(model);
  }

  /**
   * The names of the models pulled on the server (`GET /api/tags`), or null when it cannot be asked.
   * @param signal aborts the call
   */
  async pulledModels(signal: AbortSignal): Promise<string[] | null> {
    try {
      const tags = await this.client.getJson<OllamaTagsResponse>("/api/tags", { signal, timeoutMs: this.timeoutMs });
      return (tags.models ?? []).map((m) => m.name ?? m.model ?? "").filter((name) => name !== "");
    } catch {
      return null;
    }
  }
}

function positiveInt(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : null;
}
