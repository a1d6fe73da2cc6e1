/**
 * The connection every local-backend provider opens to its server: a
 * keep-alive {@link UpstreamClient} with the deployment's timeouts and API
 * key, and the shorter timeout of its small side calls (discovery,
 * tokenizer, health).
 */
import type { Deployment } from "../../config/schema.js";
import type { ProviderContext } from "../types.js";
import { deploymentTimeouts, type DeploymentTimeouts } from "./timeouts.js";
import { UpstreamClient } from "./upstream-client.js";

/** Longest wait for a discovery, tokenizer or health side call, in ms (never more than the deployment's first-byte timeout). */
export const SIDE_CALL_TIMEOUT_MS = 10_000;

/** What {@link backendClient} opens for one deployment. */
export interface BackendClient {
  /** Keep-alive HTTP access to the backend. */
  client: UpstreamClient;
  /** The deployment's timeouts, as the client applies them. */
  timeouts: DeploymentTimeouts;
  /** Timeout of side calls, in ms: the cap, or the first-byte timeout when that is shorter. */
  sideCallMs: number;
}

/**
 * Opens (lazily: no I/O here) the client of a local-backend deployment.
 * `api_key_env` names the variable of the server's key, sent as
 * `Authorization: Bearer …` when it is set.
 * @param baseUrl where the client points; the deployment's `base_url` unless the provider derives another (an API root, a default address)
 * @param sideCallCapMs the longest side-call timeout, before the first-byte timeout caps it
 * @throws RelayError 500 when there is no `baseUrl`
 */
export function backendClient(
  deployment: Deployment,
  context: ProviderContext,
  baseUrl: string | undefined = deployment.base_url,
  sideCallCapMs: number = SIDE_CALL_TIMEOUT_MS,
): BackendClient {
  const timeouts = deploymentTimeouts(deployment);
  const key = deployment.api_key_env ? context.env[deployment.api_key_env] : undefined;
  return {
    client: new UpstreamClient(baseUrl, timeouts, key ? { authorization: `Bearer ${key}` } : {}),
    timeouts,
    sideCallMs: Math.min(sideCallCapMs, timeouts.firstTokenMs),
  };
}

/** Splits `base_url` into the server root and the API prefix (`/v1` when it ends with it). */
export function splitApiBase(baseUrl: string): { root: string; apiPrefix: string } {
  const url = new URL(baseUrl);
  const path = url.pathname.replace(/\/+$/, "");
  const apiPrefix = path.endsWith("/v1") ? "/v1" : "";
  return { root: `${url.origin}${path.slice(0, path.length - apiPrefix.length)}`, apiPrefix };
}

/**
 * The common part of a local-backend class (a RawBackend over one HTTP
 * server): its {@link backendClient}, its origin as `target`, and `close`.
 */
export abstract class HttpBackend {
  /** The server's origin, for messages and logs. */
  readonly target: string;
  /** Keep-alive HTTP access to the server. */
  protected readonly client: UpstreamClient;
  /** Timeout of discovery, tokenizer and health calls, in ms. */
  protected readonly sideCallMs: number;

  /**
   * @param deployment `base_url` is the server's root; `api_key_env` names its key, sent as a bearer token
   * @throws RelayError 500 when `base_url` is missing
   */
  constructor(deployment: Deployment, context: ProviderContext) {
    ({ client: this.client, sideCallMs: this.sideCallMs } = backendClient(deployment, context));
    this.target = this.client.origin;
  }

  /** Closes the pool. */
  async close(): Promise<void> {
    await this.client.close();
  }
}
