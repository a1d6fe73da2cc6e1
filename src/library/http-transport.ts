/**
 * Runs library calls against a running llm-relay, or any OpenAI-compatible
 * API, with undici: `POST {baseURL}/chat/completions`, JSON or SSE
 * (eventsource-parser, through `protocol/sse-data.ts`). HTTP errors become
 * RelayErrors carrying the server's OpenAI error message.
 */
import { errors } from "../protocol/error-codes.js";
import { performance } from "node:perf_hooks";
import { Agent, request } from "undici";
import type { ChatCompletion, ChatCompletionChunk } from "../protocol/chat-completion.js";
import type { ChatCompletionRequest } from "../protocol/chat-request.js";
import { RelayError } from "../protocol/errors.js";
import { sseData } from "../protocol/sse-data.js";
import type { TokenUsage } from "../recording/types.js";
import { mapTransportError, upstreamHttpError } from "../protocol/upstream-errors.js";
import { TransportFailure, type ChunkHandler, type Transport, type TransportResult } from "./transport.js";

/** Time allowed to connect, in ms. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Time allowed for the first byte and between two chunks, in ms (a call's `timeoutMs` is usually shorter). */
const IDLE_TIMEOUT_MS = 600_000;

/** The HTTP transport. */
export class HttpTransport implements Transport {
  readonly defaultModel = null;
  private readonly url: URL;
  private readonly dispatcher = new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS }, keepAliveTimeout: 10_000 });

  constructor(
    baseURL: string,
    private readonly apiKey: string | undefined,
  ) {
    this.url = new URL(`${baseURL.replace(/\/+$/, "")}/chat/completions`);
  }

  async complete(body: ChatCompletionRequest, signal: AbortSignal): Promise<TransportResult> {
    try {
      const response = await this.send(body, signal);
      const text = await response.body.text();
      const finishedAt = performance.now();
      let completion: ChatCompletion;
      try {
        completion = JSON.parse(text) as ChatCompletion;
      } catch {
        throw errors.badResponse(`The server answered with invalid JSON: ${text.slice(0, 200)}`);
      }
      return { completion, finishedAt };
    } catch (error) {
      throw this.failure(error, signal);
    }
  }

  async stream(body: ChatCompletionRequest, signal: AbortSignal, onChunk: ChunkHandler): Promise<TransportResult> {
    try {
      // Usage arrives in a last chunk only when asked for (llm-relay forwards it then; OpenAI sends it then).
      const response = await this.send(
        { ...body, stream_options: { ...(body.stream_options ?? {}), include_usage: true } },
        signal,
      );
      for await (const data of sseData(response.body)) {
        if (data === "[DONE]") break;
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(data) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (parsed.error) throw upstreamHttpError(502, data);
        const pending = onChunk(parsed as unknown as ChatCompletionChunk);
        if (pending) await pending;
        if (signal.aborted) break;
      }
      if (signal.aborted) throw signal.reason;
      return { finishedAt: performance.now() };
    } catch (error) {
      throw this.failure(error, signal);
    }
  }

  /** Nothing is recorded here (a running llm-relay records the call itself): always null. */
  settle(): Promise<TokenUsage | null> {
    return Promise.resolve(null);
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async send(body: ChatCompletionRequest, signal: AbortSignal) {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: body.stream ? "text/event-stream" : "application/json",
    };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    const response = await request(this.url, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal,
      dispatcher: this.dispatcher,
      headersTimeout: IDLE_TIMEOUT_MS,
      bodyTimeout: IDLE_TIMEOUT_MS,
    });
    if (response.statusCode >= 400) {
      const text = await response.body.text().catch(() => "");
      throw upstreamHttpError(response.statusCode, text);
    }
    return response;
  }

  private failure(error: unknown, signal: AbortSignal): TransportFailure {
    if (signal.aborted) return new TransportFailure(signal.reason, undefined);
    return new TransportFailure(
      error instanceof RelayError ? error : mapTransportError(error, this.url.origin, IDLE_TIMEOUT_MS),
      undefined,
    );
  }
}
