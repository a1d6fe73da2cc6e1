/**
 * Routing end to end: the official openai client talks to the proxy, the
 * proxy to a fake upstream through a `fake/*` pattern and an alias. The
 * upstream gets the right model name and the configured API key (never
 * the client's); the database keeps the name the client asked for in
 * `responses.model` and the upstream name in `llm_relay_exchanges`.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TEXT, startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { recordedExchange } from "../helpers/exchanges.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { drain } from "../helpers/drain.js";

const UPSTREAM_KEY = "sk-fake-upstream-key-4242";
const CLIENT_KEY = "sk-client-key-not-for-upstream";

let fake: FakeUpstream;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeUpstream();
  proxy = await startTestProxy(
    {
      models: {
        "fake/*": fakeDeployment(fake.baseUrl, { api_key_env: "FAKE_UPSTREAM_KEY" }),
        pinned: fakeDeployment(fake.baseUrl, { api_key_env: "FAKE_UPSTREAM_KEY", model: "upstream-pinned-v2" }),
        keyless: fakeDeployment(fake.baseUrl, { api_key_env: "UNSET_UPSTREAM_KEY" }),
      },
      aliases: { "my-alias": "pinned", short: "fake/llama-3.1-8b-instant" },
      defaultModel: null,
    },
    { env: { FAKE_UPSTREAM_KEY: UPSTREAM_KEY } },
  );
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: CLIENT_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await proxy?.close();
  await fake?.close();
});

/** One non-streamed request through the SDK; returns the answer, the request the upstream saw, and the request id. */
async function ask(model: string, requestId: string) {
  const before = fake.requests.length;
  const completion = await client.chat.completions.create(
    { model, messages: [{ role: "user", content: "Which model are you?" }] },
    { headers: { "x-request-id": requestId } },
  );
  expect(fake.requests.length).toBe(before + 1);
  return { completion, upstream: fake.requests.at(-1)! };
}

describe("routing to the fake upstream", () => {
  it("sends the part after fake/ upstream, with the configured key, and records both names", async () => {
    const { completion, upstream } = await ask("fake/llama-3.1-8b-instant", "route-pattern");
    expect(completion.choices[0]!.message.content).toBe(DEFAULT_TEXT);
    expect(upstream.path).toBe("/v1/chat/completions");
    expect(upstream.body.model).toBe("llama-3.1-8b-instant");
    expect(upstream.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(upstream.headers["x-request-id"]).toBe("route-pattern");

    const row = await recordedExchange(proxy, "route-pattern");
    expect(row).toMatchObject({
      status: "ok",
      http_status: 200,
      model: "fake/llama-3.1-8b-instant",
      upstream_model: "llama-3.1-8b-instant",
      deployment: "fake/*",
      provider: "openai-compatible",
      resolved_model: "llama-3.1-8b-instant",
    });
  });

  it("sends the deployment's configured model for an alias, and records the alias", async () => {
    const { upstream } = await ask("my-alias", "route-alias");
    expect(upstream.body.model).toBe("upstream-pinned-v2");
    expect(upstream.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);

    const row = await recordedExchange(proxy, "route-alias");
    expect(row).toMatchObject({
      status: "ok",
      model: "my-alias",
      upstream_model: "upstream-pinned-v2",
      deployment: "pinned",
    });
  });

  it("resolves an alias to a pattern-served name", async () => {
    const { upstream } = await ask("short", "route-alias-pattern");
    expect(upstream.body.model).toBe("llama-3.1-8b-instant");
    const row = await recordedExchange(proxy, "route-alias-pattern");
    expect(row).toMatchObject({ model: "short", upstream_model: "llama-3.1-8b-instant", deployment: "fake/*" });
  });

  it("routes streamed requests the same way", async () => {
    const before = fake.requests.length;
    const stream = await client.chat.completions.create(
      { model: "fake/qwen2.5-coder", messages: [{ role: "user", content: "stream please" }], stream: true },
      { headers: { "x-request-id": "route-stream" } },
    );
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe(DEFAULT_TEXT);
    expect(fake.requests.length).toBe(before + 1);
    const upstream = fake.requests.at(-1)!;
    expect(upstream.body.model).toBe("qwen2.5-coder");
    expect(upstream.body.stream).toBe(true);
    expect(upstream.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);

    const row = await recordedExchange(proxy, "route-stream");
    expect(row).toMatchObject({
      status: "ok",
      stream: 1,
      model: "fake/qwen2.5-coder",
      upstream_model: "qwen2.5-coder",
      deployment: "fake/*",
    });
  });

  it("never forwards the client's own key: no Authorization upstream when the key variable is unset", async () => {
    const { upstream } = await ask("keyless", "route-keyless");
    expect(upstream.body.model).toBe("keyless");
    expect(upstream.headers.authorization).toBeUndefined();
    expect(JSON.stringify(fake.requests.map((r) => r.headers))).not.toContain(CLIENT_KEY);
  });

  it("says which deployment answered, and after how many attempts, in the x-llm-relay-* headers", async () => {
    const { data, response } = await client.chat.completions
      .create(
        { model: "fake/llama-3.1-8b-instant", messages: [{ role: "user", content: "hi" }] },
        { headers: { "x-request-id": "route-headers" } },
      )
      .withResponse();
    expect(data.choices[0]!.message.content).toBe(DEFAULT_TEXT);
    expect(response.headers.get("x-llm-relay-deployment")).toBe("fake/*");
    expect(response.headers.get("x-llm-relay-attempts")).toBe("1");

    const stream = await client.chat.completions
      .create({ model: "my-alias", messages: [{ role: "user", content: "hi" }], stream: true })
      .withResponse();
    expect(stream.response.headers.get("x-llm-relay-deployment")).toBe("pinned");
    expect(stream.response.headers.get("x-llm-relay-attempts")).toBe("1");
    expect(await drain(stream.data)).toBeGreaterThan(0);
  });

  it("answers 404 model_not_found for a name no route matches (no default model)", async () => {
    const before = fake.requests.length;
    const failure = await client.chat.completions
      .create({ model: "elsewhere/model", messages: [{ role: "user", content: "hi" }] })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(OpenAI.NotFoundError);
    expect((failure as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");
    // No deployment was tried.
    const headers = (failure as InstanceType<typeof OpenAI.NotFoundError>).headers;
    expect(headers?.get("x-llm-relay-attempts")).toBe("0");
    expect(headers?.get("x-llm-relay-deployment")).toBeNull();
    expect(fake.requests.length).toBe(before);
  });
});
