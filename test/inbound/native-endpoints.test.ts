/**
 * The providers' native endpoints on their own (no server), against a
 * scripted upstream on loopback: which protocols each provider kind speaks
 * natively by default and how a deployment's `protocols` overrides that
 * (src/exchange/native.ts); the client's bytes and headers as sent;
 * Anthropic's error mapping (529 → 503) and the total timeout applied to
 * native calls; what a 2xx that is not the protocol's answer, an in-band
 * failure and a stream cut short become.
 */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentDefaults, type Deployment } from "../../src/config/schema.js";
import { nativeEndpointFor } from "../../src/exchange/native.js";
import { RelayError } from "../../src/protocol/errors.js";
import type { NativeProtocol } from "../../src/protocol/inbound.js";
import { PROVIDER_KINDS } from "../../src/providers/kinds.js";
import { providerModule } from "../../src/providers/modules.js";
import type { ChatProvider, NativeCall } from "../../src/providers/types.js";
import type { AttemptTarget } from "../../src/routing/dispatcher.js";
import { anthropicFixture } from "../helpers/fake-anthropic-upstream.js";
import { llamaServerCapture, startNativeUpstream, type NativeUpstream } from "./helpers/native-upstream.js";

let upstream: NativeUpstream;
const providers: ChatProvider[] = [];

beforeAll(async () => {
  upstream = await startNativeUpstream();
});
afterAll(async () => {
  await Promise.all(providers.map(async (provider) => provider.close?.()));
  await upstream.close();
});

function deployment(kind: Deployment["provider"], extra: Partial<Deployment> = {}): Deployment {
  return {
    ...deploymentDefaults(kind),
    base_url: kind === "openai-compatible" ? `${upstream.url}/v1` : upstream.url,
    api_key_env: "UP_KEY",
    timeout_ms: 2_000,
    connect_timeout_ms: 1_000,
    ...extra,
  };
}

function provider(d: Deployment): ChatProvider {
  const made = providerModule(d.provider).factory(d, {
    env: { UP_KEY: "sk-up" },
    logger: pino({ level: "silent" }),
    debug: false,
    baseDir: process.cwd(),
  });
  providers.push(made);
  return made;
}

function call(protocol: NativeProtocol, stream: boolean, headers: Record<string, string> = {}): NativeCall {
  return {
    protocol,
    json: `{"model": "m", "stream": ${stream}}`,
    stream,
    headers,
    signal: new AbortController().signal,
    requestId: "req_native",
  };
}

async function collect(blocks: AsyncIterable<string>): Promise<string> {
  let text = "";
  for await (const block of blocks) text += block;
  return text;
}

/** The error a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<RelayError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RelayError);
    return error as RelayError;
  }
  throw new Error("expected a failure");
}

function target(d: Deployment): AttemptTarget {
  return { model: "m", route: { deployment: d } as AttemptTarget["route"], provider: provider(d) };
}

describe("which deployments are native", () => {
  it("follows each provider module's default, and a deployment's protocols over it", () => {
    const defaults = Object.fromEntries(PROVIDER_KINDS.map((kind) => [kind, providerModule(kind).nativeProtocols]));
    expect(defaults).toEqual({
      echo: ["chat"],
      "openai-compatible": ["chat"],
      anthropic: ["messages"],
      ollama: ["chat"],
      llamacpp: ["chat"],
      koboldcpp: ["chat"],
      webui: ["chat"],
      lmstudio: ["chat"],
      vllm: ["chat"],
      local: ["chat"],
    });
    expect(nativeEndpointFor(target(deployment("anthropic")), "messages")).not.toBeNull();
    expect(nativeEndpointFor(target(deployment("anthropic")), "responses")).toBeNull();
    expect(nativeEndpointFor(target(deployment("anthropic", { protocols: ["chat"] })), "messages")).toBeNull();
    expect(nativeEndpointFor(target(deployment("openai-compatible")), "responses")).toBeNull();
    const both = deployment("openai-compatible", { protocols: ["chat", "messages", "responses"] });
    expect(nativeEndpointFor(target(both), "responses")).not.toBeNull();
    expect(nativeEndpointFor(target(both), "messages")).not.toBeNull();
    const vllm = deployment("vllm", { base_url: `${upstream.url}/v1`, protocols: ["responses"] });
    expect(nativeEndpointFor(target(vllm), "responses")).not.toBeNull();
    expect(nativeEndpointFor(target(deployment("llamacpp")), "messages")).toBeNull();
    expect(nativeEndpointFor(target(deployment("llamacpp", { protocols: ["messages"] })), "messages")).not.toBeNull();
    // A deployment may list a protocol its provider cannot serve natively: it is then translated.
    expect(nativeEndpointFor(target(deployment("echo", { protocols: ["messages"] })), "messages")).toBeNull();
  });
});

describe("anthropic native messages", () => {
  it("sends the bytes with the provider's key and a default anthropic-version, and returns the body", async () => {
    const body = anthropicFixture("message-text.json");
    upstream.queue({ kind: "json", body });
    const endpoint = provider(deployment("anthropic")).native!("messages")!;
    const sent = call("messages", false, { "anthropic-beta": "b1", "x-api-key": "client-key" });
    expect(await endpoint.complete(sent)).toEqual({ rawBody: body });
    const received = upstream.requests.at(-1)!;
    expect(received.raw.toString()).toBe(sent.json);
    expect(received.path).toBe("/v1/messages");
    expect(received.headers["x-api-key"]).toBe("sk-up");
    expect(received.headers["anthropic-version"]).toBe("2023-06-01");
    expect(received.headers["anthropic-beta"]).toBe("b1");
    expect(received.headers["x-request-id"]).toBe("req_native");
  });

  it("maps Anthropic's 529 overloaded to 503 with its message", async () => {
    upstream.queue({
      kind: "json",
      status: 529,
      body: JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }),
    });
    const endpoint = provider(deployment("anthropic")).native!("messages")!;
    const error = await failure(endpoint.complete(call("messages", false)));
    expect(error.status).toBe(503);
    expect(error.message).toBe("Overloaded");
  });

  it("applies the deployment's total timeout", async () => {
    upstream.queue({ kind: "stall" });
    const before = upstream.requests.length;
    const slow = provider(deployment("anthropic", { total_timeout_ms: 300 })).native!("messages")!;
    const error = await failure(collect(slow.streamSse(call("messages", true))));
    expect(error.status).toBe(504);
    expect(error.message).toMatch(/total timeout of 300 ms/);
    expect(upstream.requests.length).toBe(before + 1);
  });

  it("holds comments before message_start, and refuses a stream that never starts", async () => {
    const sse = anthropicFixture("stream-text.sse");
    upstream.queue({ kind: "sse", text: `: hello\n\n${sse}` });
    const endpoint = provider(deployment("anthropic")).native!("messages")!;
    expect(await collect(endpoint.streamSse(call("messages", true)))).toBe(`: hello\n\n${sse}`);
    upstream.queue({ kind: "json", body: anthropicFixture("message-text.json") });
    const error = await failure(collect(endpoint.streamSse(call("messages", true))));
    expect(error.status).toBe(502);
    expect(error.toBody().error.code).toBe("upstream_invalid_response");
  });

  it("fails a stream that ends before message_stop with upstream_truncated", async () => {
    const sse = anthropicFixture("stream-text.sse")
      .split(/(?<=\n\n)/)
      .slice(0, 3)
      .join("");
    upstream.queue({ kind: "sse", text: sse });
    const endpoint = provider(deployment("anthropic")).native!("messages")!;
    const seen: string[] = [];
    const error = await failure(
      (async () => {
        for await (const block of endpoint.streamSse(call("messages", true))) seen.push(block);
      })(),
    );
    expect(seen.join("")).toBe(sse);
    expect(error.toBody().error.code).toBe("upstream_truncated");
  });
});

describe("openai-compatible native responses", () => {
  it("forwards the stream and fails at an in-band response.failed after the events before it", async () => {
    const events = llamaServerCapture("POST /v1/responses (stream)")
      .split(/(?<=\n\n)/)
      .slice(0, 3)
      .join("");
    const failed = `event: response.failed\ndata: ${JSON.stringify({
      type: "response.failed",
      response: { status: "failed", error: { code: "server_error", message: "model crashed" } },
    })}\n\n`;
    upstream.queue({ kind: "sse", text: events + failed });
    const endpoint = provider(deployment("openai-compatible", { protocols: ["responses"] })).native!("responses")!;
    const seen: string[] = [];
    const error = await failure(
      (async () => {
        for await (const block of endpoint.streamSse(call("responses", true))) seen.push(block);
      })(),
    );
    expect(seen.join("")).toBe(events);
    expect(error.status).toBe(502);
    expect(error.message).toBe("model crashed");
    const received = upstream.requests.at(-1)!;
    expect(received.path).toBe("/v1/responses");
    expect(received.headers.authorization).toBe("Bearer sk-up");
  });

  it("answers a 2xx that is not a response with 502 upstream_invalid_response", async () => {
    upstream.queue({ kind: "json", body: llamaServerCapture("POST /v1/chat/completions (non-stream)") });
    const endpoint = provider(deployment("openai-compatible")).native!("responses")!;
    const error = await failure(endpoint.complete(call("responses", false)));
    expect(error.toBody().error.code).toBe("upstream_invalid_response");
  });

  it("relays an upstream HTTP error with its status", async () => {
    upstream.queue({
      kind: "json",
      status: 400,
      body: '{"error":{"code":400,"message":"\'input\' is required","type":"invalid_request_error"}}',
    });
    const endpoint = provider(deployment("openai-compatible")).native!("messages")!;
    const error = await failure(endpoint.complete(call("messages", false)));
    expect(error.status).toBe(400);
    expect(error.message).toBe("'input' is required");
    expect(upstream.requests.at(-1)!.path).toBe("/v1/messages");
  });
});
