/**
 * `POST {base_url}/embeddings` of an OpenAI-compatible upstream (OpenAI,
 * vLLM, LM Studio, llama.cpp server's `/v1`, Ollama's `/v1`), following
 * OpenAI's Embeddings API (https://platform.openai.com/docs/api-reference/embeddings/create).
 * The body goes upstream as the client sent it (model replaced) and the
 * answer comes back byte for byte; `model`, `usage.prompt_tokens` and the
 * vector length are read from it without parsing the vectors. Uses the
 * deployment's undici pool and its first-byte, idle and total timeouts.
 * A 2xx body that is plainly not an embedding list (not a JSON object, cut
 * short, no vector) is a 502 `upstream_invalid_response`; checked with
 * string scans only (a batch is megabytes of numbers).
 */
import type { Pool } from "undici";
import type { Deployment } from "../../config/schema.js";
import { peekEmbeddingBody, type EmbeddingBodyFacts } from "../../protocol/embeddings.js";
import { upstreamInvalidResponse } from "../../protocol/errors.js";
import {
  isTotalTimeout,
  releaseTotalTimeout,
  totalTimeoutError,
  withTotalTimeout,
  type DeploymentTimeouts,
} from "../http/timeouts.js";
import { mapTransportError, upstreamHttpError } from "../../protocol/upstream-errors.js";
import type { EmbeddingCall, EmbeddingResult } from "../types.js";

/** What the embeddings call shares with the deployment's chat provider. */
export interface OpenAICompatibleEmbedOptions {
  /** The deployment's keep-alive pool (to the origin of `base_url`). */
  pool: Pool;
  /** The deployment (`base_url`, `api_key_env`). */
  deployment: Deployment;
  /** The environment the API key is read from. */
  env: NodeJS.ProcessEnv;
  timeouts: DeploymentTimeouts;
}

/**
 * The `embed` method of an openai-compatible deployment.
 * @returns a function that rejects with a RelayError: 502 unreachable, 504 on a timeout,
 *   the upstream's status and message for an HTTP error, 502 `upstream_invalid_response` for a 2xx body that is not an embedding list
 */
export function createOpenAICompatibleEmbed({
  pool,
  deployment,
  env,
  timeouts,
}: OpenAICompatibleEmbedOptions): (call: EmbeddingCall) => Promise<EmbeddingResult> {
  const base = new URL(deployment.base_url!);
  const origin = base.origin;
  const path = `${base.pathname.replace(/\/+$/, "")}/embeddings`;
  const key = deployment.api_key_env ? env[deployment.api_key_env] : undefined;

  return async function embed(call: EmbeddingCall): Promise<EmbeddingResult> {
    const signal = withTotalTimeout(call.signal, timeouts.totalMs);
    let waitingFor = timeouts.firstTokenMs;
    try {
      const response = await pool.request({
        path,
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          "x-request-id": call.requestId,
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
        body: JSON.stringify(call.body),
        signal,
        headersTimeout: timeouts.firstTokenMs,
        bodyTimeout: timeouts.idleMs,
      });
      waitingFor = timeouts.idleMs;
      const text = await response.body.text();
      if (response.statusCode >= 400) {
        const retryAfter = response.headers["retry-after"];
        throw upstreamHttpError(response.statusCode, text, typeof retryAfter === "string" ? retryAfter : undefined);
      }
      const facts = peekEmbeddingBody(text);
      if (!looksLikeEmbeddingList(text, facts))
        throw upstreamInvalidResponse(
          `The upstream ${origin} answered with a body that is not an embedding list`,
          text,
        );
      return { rawBody: text, ...facts };
    } catch (error) {
      if (isTotalTimeout(signal)) throw totalTimeoutError(origin, timeouts.totalMs!);
      throw mapTransportError(error, origin, waitingFor);
    } finally {
      releaseTotalTimeout(signal);
    }
  };
}

/** A body that starts and ends as a JSON object and holds a first vector (a cut body, HTML, `[]` or a JSON string do not). */
function looksLikeEmbeddingList(body: string, facts: EmbeddingBodyFacts): boolean {
  const text = body.trim();
  return text.startsWith("{") && text.endsWith("}") && facts.dimensions !== null;
}
