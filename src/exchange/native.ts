/**
 * Whether an attempt's deployment takes a request in the client's own
 * protocol (Anthropic Messages, OpenAI Responses) as it is, and the call
 * it then gets: the client's bytes with only `model` renamed when needed.
 */
import { isNativeProtocol, type InboundProtocol, type NativeProtocol } from "../protocol/inbound.js";
import { providerModule } from "../providers/modules.js";
import type { NativeCall, NativeEndpoint } from "../providers/types.js";
import type { AttemptTarget } from "../routing/dispatcher.js";

/**
 * The native endpoint for `protocol` on the attempt's deployment, or null
 * when the exchange must be translated to chat: the deployment's
 * `protocols` (config; absent: its provider module's `nativeProtocols`,
 * e.g. `messages` for `anthropic`) must name it and the provider must offer it.
 * Always null for a protocol no upstream takes natively (`isNativeProtocol`).
 */
export function nativeEndpointFor(target: AttemptTarget, protocol: InboundProtocol): NativeEndpoint | null {
  if (!isNativeProtocol(protocol)) return null;
  const deployment = target.route.deployment;
  const protocols = deployment.protocols ?? providerModule(deployment.provider).nativeProtocols;
  if (!protocols.includes(protocol)) return null;
  return target.provider.native?.(protocol) ?? null;
}

/** What a native call is made of, besides the route's upstream model. */
export interface NativeRequest {
  protocol: NativeProtocol;
  /** The client's body as validated (unknown fields kept). */
  request: Record<string, unknown>;
  /** The client's body as it sent it (JSON text), when known. */
  rawBody: string | null;
  stream: boolean;
  /** The protocol's own headers to forward (the adapter's `forwardedHeaders`). */
  headers: Record<string, string>;
}

/**
 * The native call of one attempt: the client's own bytes when the upstream
 * model is the one it named, else its body with `model` replaced.
 */
export function nativeCall(
  native: NativeRequest,
  upstreamModel: string,
  signal: AbortSignal,
  requestId: string,
): NativeCall {
  const json =
    native.rawBody !== null && native.request.model === upstreamModel
      ? native.rawBody
      : JSON.stringify({ ...native.request, model: upstreamModel });
  return { protocol: native.protocol, json, stream: native.stream, headers: native.headers, signal, requestId };
}
