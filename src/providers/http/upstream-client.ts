/**
 * A keep-alive HTTP client for one backend (an undici Pool per origin),
 * with the deployment's timeouts applied and every failure mapped to a
 * RelayError (src/providers/http/upstream-errors.ts): the common part of
 * every HTTP provider.
 */
import { uncodedError } from "../../protocol/error-codes.js";
import { Pool, type Dispatcher } from "undici";
import { RelayError, upstreamInvalidResponse } from "../../protocol/errors.js";
import { mapTransportError, upstreamHttpError } from "../../protocol/upstream-errors.js";
import type { DeploymentTimeouts } from "./timeouts.js";

/** A response whose status was < 400; read or destroy its body. */
export type UpstreamResponse = Dispatcher.ResponseData;

/** Options of one request. */
export interface UpstreamRequestOptions {
  /** Aborts the request (client gone, server stopping, total timeout). */
  signal: AbortSignal;
  /** Extra headers (merged over the client's defaults). */
  headers?: Record<string, string>;
  /** `accept` header; default `application/json`. */
  accept?: string;
  /** Overrides the deployment's first-byte timeout, in ms (e.g. short discovery calls). */
  timeoutMs?: number;
}

/**
 * Maps an upstream's HTTP error response (status ≥ 400) to the RelayError relayed to the client
 * (default: {@link upstreamHttpError}, OpenAI-style bodies; the Anthropic provider passes its own).
 */
export type HttpErrorMapper = (status: number, bodyText: string, retryAfter?: string) => RelayError;

/** HTTP access to one backend. */
export class UpstreamClient {
  private readonly pool: Pool;
  /** Origin of the backend, for messages. */
  readonly origin: string;
  /** Path prefix of `base_url` (no trailing slash), prepended to every path. */
  private readonly prefix: string;

  /**
   * @param baseUrl the deployment's `base_url`
   * @param timeouts the deployment's timeouts
   * @param defaultHeaders sent with every request (e.g. an API key)
   * @param httpError maps an HTTP error response (default {@link upstreamHttpError})
   * @throws RelayError 500 when `baseUrl` is missing
   */
  constructor(
    baseUrl: string | undefined,
    private readonly timeouts: DeploymentTimeouts,
    private readonly defaultHeaders: Record<string, string> = {},
    private readonly httpError: HttpErrorMapper = upstreamHttpError,
  ) {
    if (!baseUrl) throw uncodedError("This deployment needs base_url");
    const url = new URL(baseUrl);
    this.origin = url.origin;
    this.prefix = url.pathname.replace(/\/+$/, "");
    this.pool = new Pool(this.origin, { connect: { timeout: timeouts.connectMs }, keepAliveTimeout: 30_000 });
  }

  /**
   * POSTs `body` as JSON.
   * @returns the response (status < 400); the caller reads its body
   * @throws RelayError 502/504 on transport failures, the upstream's status on an HTTP error
   */
  postJson(path: string, body: unknown, options: UpstreamRequestOptions): Promise<UpstreamResponse> {
    return this.request("POST", path, JSON.stringify(body), options);
  }

  /**
   * POSTs `json`, already JSON text, as it is (e.g. a client's own bytes, passed through).
   * @returns the response (status < 400); the caller reads its body
   * @throws RelayError as {@link postJson}
   */
  postText(path: string, json: string, options: UpstreamRequestOptions): Promise<UpstreamResponse> {
    return this.request("POST", path, json, options);
  }

  /**
   * GETs `path` and parses its JSON body.
   * @throws RelayError as {@link postJson}, and 502 `upstream_invalid_response` when the body is not JSON
   */
  async getJson<T>(path: string, options: UpstreamRequestOptions): Promise<T> {
    const response = await this.request("GET", path, undefined, options);
    return this.readJson<T>(response);
  }

  /**
   * POSTs JSON and parses the JSON answer.
   * @throws RelayError as {@link getJson}
   */
  async postForJson<T>(path: string, body: unknown, options: UpstreamRequestOptions): Promise<T> {
    return this.readJson<T>(await this.postJson(path, body, options));
  }

  /**
   * Reads a whole JSON body.
   * @throws RelayError 502 `upstream_invalid_response` when it is not JSON; mapped transport errors
   */
  async readJson<T>(response: UpstreamResponse): Promise<T> {
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      throw this.mapError(error);
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw upstreamInvalidResponse(`The upstream ${this.origin} sent invalid JSON`, text);
    }
  }

  /** Maps an error thrown while reading a body (reset, idle timeout) to a RelayError. */
  mapError(error: unknown): RelayError {
    return mapTransportError(error, this.origin, this.timeouts.idleMs);
  }

  /** Closes the pool's connections. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  private async request(
    method: "GET" | "POST",
    path: string,
    body: string | undefined,
    options: UpstreamRequestOptions,
  ): Promise<UpstreamResponse> {
    const headersTimeout = options.timeoutMs ?? this.timeouts.firstTokenMs;
    let response: UpstreamResponse;
    try {
      response = await this.pool.request({
        path: `${this.prefix}${path}`,
        method,
        headers: {
          accept: options.accept ?? "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...this.defaultHeaders,
          ...options.headers,
        },
        ...(body === undefined ? {} : { body }),
        signal: options.signal,
        headersTimeout,
        bodyTimeout: this.timeouts.idleMs,
      });
    } catch (error) {
      throw mapTransportError(error, this.origin, headersTimeout);
    }
    if (response.statusCode >= 400) {
      const text = await response.body.text().catch(() => "");
      const retryAfter = response.headers["retry-after"];
      throw this.httpError(response.statusCode, text, typeof retryAfter === "string" ? retryAfter : undefined);
    }
    return response;
  }
}
