/**
 * Any OpenAI-compatible Chat Completions API: OpenAI, Groq, DeepSeek,
 * vLLM, LM Studio, llama.cpp server's `/v1`, Ollama's `/v1`. Follows
 * OpenAI's API reference for `POST /chat/completions`
 * (https://platform.openai.com/docs/api-reference/chat). The body goes
 * upstream as the client sent it (model replaced); the answer comes back
 * byte for byte (streams as the SSE text the upstream sent, cut at event
 * boundaries: src/protocol/sse-text.ts). A non-streaming answer is parsed
 * once to check it is a `chat.completion` (a cut or non-JSON body is a 502,
 * src/protocol/upstream-json.ts); stream events are not parsed on the way
 * through (the recorder checks them). One undici keep-alive pool per deployment. The
 * deployment's four timeouts apply: connect (undici `connect.timeout`),
 * first token (`headersTimeout`), idle between chunks (`bodyTimeout`) and
 * total (an abort timer over the whole call). One exception to "byte for
 * byte": a KoboldCpp server's fake usage (100/100/200) is recounted, and its
 * streams get the usage chunk they lack (src/providers/koboldcpp/koboldcpp-v1-usage.ts).
 *
 * Servers that also serve OpenAI's Responses API or Anthropic's Messages API
 * under the same base (llama-server, vLLM, Ollama, OpenAI itself) get those
 * clients natively when the deployment's `protocols` names them:
 * `native("responses")` = `POST {base_url}/responses`, `native("messages")` =
 * `POST {base_url}/messages`, the client's bytes with the key as Bearer
 * (src/providers/native/native-endpoint.ts).
 */
import { errors, uncodedError } from "../../protocol/error-codes.js";
import { Pool } from "undici";
import type { Deployment } from "../../config/schema.js";
import { RelayError } from "../../protocol/errors.js";
import type { ChatCompletion, ChatCompletionChunk } from "../../protocol/chat-completion.js";
import { parseUpstreamCompletion } from "../../protocol/upstream-json.js";
import { SseEventCutter } from "../../protocol/sse-text.js";
import {
  deploymentTimeouts,
  isTotalTimeout,
  releaseTotalTimeout,
  streamWithTotalTimeout,
  totalTimeoutError,
  withTotalTimeout,
} from "../http/timeouts.js";
import { mapTransportError, upstreamHttpError } from "../../protocol/upstream-errors.js";
import { checkBlock, eventsOfBlocks } from "./sse-pass-through.js";
import { hasFinish } from "../../protocol/sse-sniff.js";
import { createOpenAICompatibleEmbed } from "./embeddings.js";
import { isKoboldFakeUsage, koboldV1Usage } from "../koboldcpp/koboldcpp-v1-usage.js";
import type { NativeProtocol } from "../../protocol/inbound.js";
import { UpstreamClient } from "../http/upstream-client.js";
import { createNativeEndpoint } from "../native/native-endpoint.js";
import type {
  ChatProvider,
  NativeEndpoint,
  ProviderCall,
  ProviderCompletion,
  ProviderContext,
  ProviderStreamEvent,
} from "../types.js";

/**
 * Creates the provider for one deployment.
 * @throws RelayError at call time (not here) when `base_url` is missing
 */
export function createOpenAICompatibleProvider(deployment: Deployment, context: ProviderContext): ChatProvider {
  const { env } = context;
  if (!deployment.base_url) {
    throw uncodedError("An openai-compatible deployment needs base_url");
  }
  // KoboldCpp's /v1 answers carry a fake usage (100/100): recounted with its tokenizer (src/providers/koboldcpp/koboldcpp-v1-usage.ts).
  const kobold = koboldV1Usage(deployment, context);
  const base = new URL(deployment.base_url);
  const origin = base.origin;
  const path = `${base.pathname.replace(/\/+$/, "")}/chat/completions`;
  const timeouts = deploymentTimeouts(deployment);
  const pool = new Pool(origin, { connect: { timeout: timeouts.connectMs }, keepAliveTimeout: 30_000 });

  /** The RelayError for what a call threw: a total timeout, or what undici reported (`timeoutMs` names the limit hit). */
  function failure(error: unknown, signal: AbortSignal, timeoutMs: number): RelayError {
    if (isTotalTimeout(signal)) return totalTimeoutError(origin, timeouts.totalMs!);
    return mapTransportError(error, origin, timeoutMs);
  }

  function headers(call: ProviderCall, stream: boolean): Record<string, string> {
    const out: Record<string, string> = {
      "content-type": "application/json",
      accept: stream ? "text/event-stream" : "application/json",
      "x-request-id": call.requestId,
    };
    const key = deployment.api_key_env ? env[deployment.api_key_env] : undefined;
    if (key) out.authorization = `Bearer ${key}`;
    return out;
  }

  /** Sends the request; resolves once the upstream's headers arrived with a success status. */
  async function send(call: ProviderCall, signal: AbortSignal, stream: boolean) {
    let response;
    try {
      response = await pool.request({
        path,
        method: "POST",
        headers: headers(call, stream),
        body: call.json ?? JSON.stringify(call.body),
        signal,
        headersTimeout: timeouts.firstTokenMs,
        bodyTimeout: timeouts.idleMs,
      });
    } catch (error) {
      throw failure(error, signal, timeouts.firstTokenMs);
    }
    if (response.statusCode >= 400) {
      const text = await response.body.text().catch(() => "");
      const retryAfter = response.headers["retry-after"];
      throw upstreamHttpError(response.statusCode, text, typeof retryAfter === "string" ? retryAfter : undefined);
    }
    return response;
  }

  /** The native endpoints, made on first use over one shared client. */
  let nativeClient: UpstreamClient | null = null;
  const natives = new Map<NativeProtocol, NativeEndpoint>();
  function native(protocol: NativeProtocol): NativeEndpoint {
    const known = natives.get(protocol);
    if (known) return known;
    const key = deployment.api_key_env ? env[deployment.api_key_env] : undefined;
    nativeClient ??= new UpstreamClient(deployment.base_url, timeouts, key ? { authorization: `Bearer ${key}` } : {});
    const endpoint = createNativeEndpoint({
      protocol,
      client: nativeClient,
      path: protocol === "messages" ? "/messages" : "/responses",
      timeouts,
    });
    natives.set(protocol, endpoint);
    return endpoint;
  }

  function streamSse(call: ProviderCall): AsyncIterable<string> {
    return streamWithTotalTimeout(call.signal, timeouts.totalMs, (signal) =>
      kobold.stream(call.body, sseWithin(call, signal), signal),
    );
  }

  return {
    kind: "openai-compatible",

    async complete(call: ProviderCall): Promise<ProviderCompletion> {
      const signal = withTotalTimeout(call.signal, timeouts.totalMs);
      try {
        const response = await send(call, signal, false);
        let rawBody: string;
        try {
          rawBody = await response.body.text();
        } catch (error) {
          throw failure(error, signal, timeouts.idleMs);
        }
        const completion = parseUpstreamCompletion(rawBody, origin);
        if (isKoboldFakeUsage(completion.usage)) return await kobold.correct(call.body, rawBody, completion, signal);
        return { rawBody };
      } finally {
        releaseTotalTimeout(signal);
      }
    },

    streamSse,

    stream(call: ProviderCall): AsyncIterable<ProviderStreamEvent> {
      return eventsOfBlocks(streamSse(call));
    },

    native,

    async close(): Promise<void> {
      await Promise.all([pool.close(), kobold.close(), nativeClient?.close()]);
    },

    embed: createOpenAICompatibleEmbed({ pool, deployment, env, timeouts }),
  };

  /**
   * The stream of one call under `signal` (the call's, with the total
   * timeout), as blocks of complete SSE events exactly as the upstream sent
   * them: one block per read that completes an event, `[DONE]` and what
   * follows it left out.
   * @throws RelayError on an in-band error event (after the events before it), a transport failure, a stream that ends unfinished, or 502 `upstream_invalid_response` for a JSON answer that is not a chat.completion
   */
  async function* sseWithin(call: ProviderCall, signal: AbortSignal): AsyncGenerator<string> {
    const response = await send(call, signal, true);
    const contentType = String(response.headers["content-type"] ?? "");
    if (contentType.includes("application/json")) {
      // The upstream ignored `stream: true` and answered with one completion.
      let text: string;
      try {
        text = await response.body.text();
      } catch (error) {
        throw failure(error, signal, timeouts.idleMs);
      }
      const completion = parseUpstreamCompletion(text, origin);
      yield completionToChunks(completion)
        .map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`)
        .join("");
      return;
    }
    const cutter = new SseEventCutter();
    let finished = false;
    let done = false;
    /** Passes on a block of complete events (none when `block` is empty), noting the finish and `[DONE]`. */
    function* passOn(block: string): Generator<string> {
      const checked = checkBlock(block);
      if (!finished && hasFinish(checked.forward)) finished = true;
      if (checked.forward !== "") yield checked.forward;
      if (checked.error) throw checked.error;
      done = checked.done;
    }
    try {
      // Read to the end of the body even after [DONE]: leaving the loop early would destroy the
      // body and with it the keep-alive connection (a new TCP connection per stream).
      for await (const bytes of response.body) {
        if (!done) yield* passOn(cutter.push(bytes as Uint8Array));
      }
      if (!done) yield* passOn(cutter.end());
    } catch (error) {
      if (error instanceof RelayError) throw error;
      throw failure(error, signal, timeouts.idleMs);
    } finally {
      if (!response.body.destroyed) response.body.destroy();
    }
    if (done) return;
    if (!finished) {
      throw errors.upstreamTruncated(`The upstream ${origin} ended the stream before the completion finished`);
    }
  }
}

/** A completion split into the chunks a stream would have carried (for upstreams that ignore `stream`). */
function completionToChunks(completion: ChatCompletion): ChatCompletionChunk[] {
  const base = {
    id: completion.id,
    object: "chat.completion.chunk" as const,
    created: completion.created,
    model: completion.model,
  };
  const chunks: ChatCompletionChunk[] = completion.choices.map((choice) => ({
    ...base,
    choices: [{ index: choice.index, delta: { ...choice.message }, finish_reason: choice.finish_reason ?? "stop" }],
  }));
  if (completion.usage) chunks.push({ ...base, choices: [], usage: completion.usage });
  return chunks;
}
