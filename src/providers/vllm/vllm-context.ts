/**
 * What vLLM tells about the context window and the prompt's size, from
 * its OpenAI-compatible server
 * (https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html):
 * `GET /v1/models` lists each served model with `max_model_len` (vLLM's
 * extension of OpenAI's model object), and the Tokenizer API's
 * `POST /tokenize` (at the server root) counts a chat's tokens with the
 * model's own tokenizer and chat template: `{model, messages,
 * add_generation_prompt}` → `{count, max_model_len, tokens}`
 * (vllm/entrypoints/openai/protocol.py, `ModelCard`, `TokenizeChatRequest`,
 * `TokenizeResponse`). Example bodies: test/fixtures/protocols/vllm/.
 */
import type { ChatCompletionRequest } from "../../protocol/chat-request.js";
import { RelayError } from "../../protocol/errors.js";
import { countRequestPromptTokens } from "../../tokens/count.js";
import type { UpstreamClient } from "../http/upstream-client.js";
import { DISCOVERY_TTL_MS, DiscoveryCache, monotonicClock, type Clock } from "../raw/discovery-cache.js";

/** `GET /v1/models`. */
interface VllmModelList {
  data?: { id?: string; root?: string | null; max_model_len?: number | null }[];
}

/** `POST /tokenize`. */
interface VllmTokenizeResponse {
  count?: number;
  max_model_len?: number;
}

/** A prompt's size, in tokens. */
export interface PromptCount {
  tokens: number;
  /** True when counted with gpt-tokenizer (the server's /tokenize was not available). */
  estimated: boolean;
}

/** Longest wait for `/v1/models` and `/tokenize`, in ms. */
export const VLLM_DISCOVERY_TIMEOUT_MS = 15_000;

/**
 * The `max_model_len` of `model` in a `/v1/models` answer: the entry whose
 * `id` (or `root`) is the model, else the only entry; null when absent.
 */
export function maxModelLen(list: VllmModelList, model: string): number | null {
  const data = list.data ?? [];
  const entry =
    data.find((m) => m.id === model) ?? data.find((m) => m.root === model) ?? (data.length === 1 ? data[0] : undefined);
  const value = entry?.max_model_len;
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : null;
}

/**
 * The context windows and token counts of one vLLM deployment. Windows are
 * kept per model for a TTL (60 s by default: a server restarted with another
 * `--max-model-len` is seen within it) and dropped by {@link invalidate}; a
 * failed call, or an answer without the window, is asked again next time. A
 * server without `/tokenize` (404/405) is remembered and estimated from then on.
 */
export class VllmContext {
  private readonly windows: DiscoveryCache<string, number | null>;
  private tokenizeAvailable = true;

  /**
   * @param client HTTP access to the server root (where `/tokenize` lives)
   * @param modelsPath path of the models list under the root (`/v1/models`)
   * @param timeoutMs longest wait for `/v1/models` and `/tokenize`, in ms
   * @param ttlMs how long a window is used, in ms (the deployment's `context_window_ttl_ms`)
   * @param now the clock of the TTL (ms)
   */
  constructor(
    private readonly client: UpstreamClient,
    private readonly modelsPath: string,
    private readonly timeoutMs: number,
    ttlMs: number = DISCOVERY_TTL_MS,
    now: Clock = monotonicClock,
  ) {
    this.windows = new DiscoveryCache(ttlMs, now);
  }

  /** The context window of `model` from `/v1/models`, in tokens, or null when the server does not say (never rejects). */
  window(model: string, signal: AbortSignal): Promise<number | null> {
    const load = () =>
      this.client
        .getJson<VllmModelList>(this.modelsPath, { signal, timeoutMs: this.timeoutMs })
        .then((list) => maxModelLen(list, model));
    return this.windows.get(model, load, (value) => value !== null).catch(() => null);
  }

  /** Forgets the windows (of `model`, or all): the next request asks `/v1/models` again. */
  invalidate(model?: string): void {
    this.windows.invalidate(model);
  }

  /**
   * The prompt's tokens: vLLM's own count (chat template and tools
   * included) when `/tokenize` answers, else a gpt-tokenizer estimate.
   * @throws only when `signal` is aborted
   */
  async count(body: ChatCompletionRequest, signal: AbortSignal): Promise<PromptCount> {
    const tools = (body as Record<string, unknown>).tools;
    const hasTools = Array.isArray(tools) && tools.length > 0;
    if (this.tokenizeAvailable) {
      try {
        const answer = await this.client.postForJson<VllmTokenizeResponse>(
          "/tokenize",
          { model: body.model, messages: body.messages, add_generation_prompt: true, ...(hasTools ? { tools } : {}) },
          { signal, timeoutMs: this.timeoutMs },
        );
        if (typeof answer.count === "number") return { tokens: answer.count, estimated: false };
      } catch (error) {
        if (signal.aborted) throw error;
        if (error instanceof RelayError && (error.status === 404 || error.status === 405))
          this.tokenizeAvailable = false;
      }
    }
    return { tokens: countRequestPromptTokens({ messages: body.messages, tools }), estimated: true };
  }
}
