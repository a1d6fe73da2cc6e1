/**
 * `GET /v1/models/{id}` answers as routing would, with the `openai` SDK as
 * the client: on a proxy with no config every name reaches the built-in
 * `echo` through `default_model`, so `gpt-4o` is found (it used to be 404
 * "no default_model is set" while a chat request with it succeeded); with a
 * config, a name a chat request would reach (exact, alias, pattern) is found
 * with the same object shape as the list, and a name nothing serves is 404
 * `model_not_found` in OpenAI's shape — for chat and lookup alike.
 */
import OpenAI, { NotFoundError } from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chat, chatBody, openAIError, send } from "../helpers/exchanges.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-openai-upstream.js";
import { fakeDeployment, startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { match } from "../helpers/matchers.js";

let proxy: TestProxy | null = null;
afterEach(async () => {
  await proxy?.close();
  proxy = null;
});

const client = (p: TestProxy) => new OpenAI({ baseURL: p.baseURL, apiKey: "unused", maxRetries: 0 });

describe("a proxy with no config", () => {
  it("finds gpt-4o, which a chat request reaches through the built-in default echo", async () => {
    proxy = await startTestProxy();
    const model = await client(proxy).models.retrieve("gpt-4o");
    expect(model).toEqual({ id: "gpt-4o", object: "model", created: match.any(Number), owned_by: "echo" });

    // The same name in a chat request is served by echo, as the lookup says.
    const answer = await chat(proxy, chatBody("gpt-4o"));
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-llm-relay-deployment")).toBe("echo");
  });

  it("answers the lookup with the list's object shape, through the /openai/v1 alias too", async () => {
    proxy = await startTestProxy();
    const list = await client(proxy).models.list();
    const echo = list.data.find((m) => m.id === "echo")!;
    expect(await client(proxy).models.retrieve("echo")).toEqual(echo);

    const aliased = await send(`${proxy.url}/openai/v1/models/claude-3-opus`);
    expect(aliased.status).toBe(200);
    expect(Object.keys(aliased.json as object).sort()).toEqual(Object.keys(echo).sort());
    expect(aliased.json).toMatchObject({ id: "claude-3-opus", object: "model", owned_by: "echo" });
  });
});

describe("a proxy with a config and no default_model", () => {
  let fake: FakeUpstream;
  beforeAll(async () => {
    fake = await startFakeUpstream();
  });
  afterAll(async () => {
    await fake.close();
  });

  const start = () =>
    startTestProxy({
      defaultModel: null,
      models: {
        "my-model": fakeDeployment(fake.baseUrl, { context_window: 8192, input_cost_per_mtok: 0.5 }),
        "fake/*": fakeDeployment(fake.baseUrl),
      },
      aliases: { fast: "my-model" },
    });

  it("finds exactly the names a chat request reaches, and 404s the others for both", async () => {
    proxy = await start();
    for (const [name, served] of [
      ["my-model", true],
      ["fast", true],
      ["fake/any-model", true],
      ["gpt-4o", false],
      ["fake/", false],
      ["my-model-2", false],
    ] as const) {
      const lookup = await send(`${proxy.baseURL}/models/${name}`);
      const answer = await chat(proxy, chatBody(name));
      expect([name, lookup.status], lookup.text).toEqual([name, served ? 200 : 404]);
      expect([name, answer.status], answer.text).toEqual([name, served ? 200 : 404]);
      if (!served) {
        expect(openAIError(lookup)).toEqual({
          message: match.stringContaining(`'${name}'`),
          type: "invalid_request_error",
          param: "model",
          code: "model_not_found",
        });
      }
    }
  });

  it("gives a listed name the list's entry, and a pattern's name the pattern's provider", async () => {
    proxy = await start();
    const list = await client(proxy).models.list();
    const listed = list.data.find((m) => m.id === "my-model");
    expect(listed).toMatchObject({ id: "my-model", context_window: 8192, input_usd_per_mtok: 0.5 });
    expect(await client(proxy).models.retrieve("my-model")).toEqual(listed);
    expect(await client(proxy).models.retrieve("fast")).toMatchObject({ id: "fast", context_window: 8192 });
    expect(await client(proxy).models.retrieve("fake/any-model")).toEqual({
      id: "fake/any-model",
      object: "model",
      created: listed!.created,
      owned_by: "openai-compatible",
    });
    await expect(client(proxy).models.retrieve("gpt-4o")).rejects.toBeInstanceOf(NotFoundError);
  });
});
